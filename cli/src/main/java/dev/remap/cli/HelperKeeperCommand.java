package dev.remap.cli;

import dev.remap.csi.node.HelperKeeper;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** ./remap helper-keeper: the node's long-lived starter of device helpers. Wiring only. */
@Command(name = "helper-keeper", mixinStandardHelpOptions = true,
    description = {"Start the helpers of kernel devices (nbdfuse, reconnecting proxies) for the CSI node plugin (remap csi",
        "--helper-keeper SOCKET) and keep them running while the plugin restarts. Runs until SIGTERM;",
        "its helpers end with it."})
final class HelperKeeperCommand implements Callable<Integer> {

  @Option(names = "--socket", required = true, paramLabel = "PATH",
      description = "The Unix socket to listen on (made owner-only), e.g. /var/lib/remap/csi-state/keeper.sock")
  Path socket;

  @Override
  public Integer call() throws Exception {
    HelperKeeper keeper = HelperKeeper.start(socket.toAbsolutePath());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        keeper.close();
      } catch (Exception e) {
        System.err.println("remap helper-keeper: closing: " + e.getMessage());
      }
    }, "keeper-shutdown"));
    keeper.awaitTermination();
    return 0;
  }
}
