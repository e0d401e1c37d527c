package dev.remap.cli;

import dev.remap.csi.CsiDriver;
import dev.remap.csi.DriverConfig;
import dev.remap.csi.http.HttpAddress;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** ./remap csi: the CSI driver on a Unix socket until SIGTERM. Wiring only: flags → config → driver. */
@Command(name = "csi", mixinStandardHelpOptions = true,
    description = {"Run the CSI driver (" + DriverConfig.DRIVER_NAME + ") on a Unix socket until SIGTERM:",
        "the controller (volumes and snapshots in the store), the node plugin (staged volumes served",
        "from this node and attached as kernel block devices), or both."})
final class CsiCommand implements Callable<Integer> {

  @Mixin StoreOptions store;
  /**
   * How the volumes this process serves are cleaned, and its own collection of the store's garbage
   * (--collect-every, --collect-grace), apart from the controller's hourly one (--gc-interval, --gc-grace).
   */
  @Mixin CleaningOptions cleaning;

  @Option(names = "--mode", paramLabel = "MODE", defaultValue = "all",
      description = "controller, node or all (default ${DEFAULT-VALUE})")
  String mode;

  @Option(names = "--endpoint", required = true, paramLabel = "unix:///PATH",
      description = "The Unix socket to serve CSI on, e.g. unix:///csi/csi.sock")
  String endpoint;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Where the node plugin keeps what it staged (default: the journal folder's parent, /csi-state)")
  Path stateDir;

  @Option(names = "--kubeconfig", paramLabel = "FILE",
      description = "The Kubernetes API server to read per-disk PVC annotations from (default: $KUBECONFIG, "
          + "else the in-cluster ServiceAccount, else none: the class's parameters apply)")
  Path kubeconfig;

  @Option(names = "--gc-interval", paramLabel = "DURATION", defaultValue = "1h",
      description = "Controller: how often to free the store's unreferenced data (deleted volumes, overwritten"
          + " data, abandoned imports), e.g. 30m; 0s: never, run ./remap gc instead (default ${DEFAULT-VALUE})")
  String gcInterval;

  @Option(names = "--gc-grace", paramLabel = "DURATION", defaultValue = "1h",
      description = "Controller: unreferenced objects younger than this are kept (objects being written,"
          + " imports in progress) (default ${DEFAULT-VALUE})")
  String gcGrace;

  @Option(names = "--kubelet-registration-dir", paramLabel = "DIR",
      description = "Node: register with the kubelet (instead of the node-driver-registrar sidecar) through a socket"
          + " in DIR, the kubelet's plugin registry as mounted here (host /var/lib/kubelet/plugins_registry)")
  Path registrationDir;

  @Option(names = "--kubelet-csi-endpoint", paramLabel = "PATH",
      description = "Node: the path of the --endpoint socket as the kubelet sees it on the host, told at registration,"
          + " e.g. /var/lib/kubelet/plugins/" + DriverConfig.DRIVER_NAME + "/csi.sock (default: the --endpoint path)")
  String kubeletEndpoint;

  @Option(names = HttpAddress.FLAG, paramLabel = "HOST:PORT",
      description = "Serve /healthz (for the liveness probe, instead of the livenessprobe sidecar) and /metrics"
          + " (Prometheus) on HOST:PORT, :PORT (every interface) or none (default " + DEFAULT_HTTP
          + ", skipped with a warning if taken)")
  String httpAddress;

  @Option(names = "--helper-keeper", paramLabel = "SOCKET",
      description = {"Node: start the helpers of kernel devices (nbdfuse, reconnecting proxies) through the helper keeper listening",
          "on SOCKET (./remap helper-keeper), so that devices outlive this process's container; default: as",
          "children of this process"})
  Path helperKeeper;

  @Option(names = "--swap-pool", paramLabel = "SIZE", defaultValue = "0",
      description = {"Node: memory of this node that the swap disks of swap volumes (VmMemorySwap) may hold, all",
          "together, e.g. 1G or 1Gi; 0: swap volumes are refused (default ${DEFAULT-VALUE})"})
  String swapPool;

  @Option(names = "--share-cache", paramLabel = "SIZE", defaultValue = "1Gi",
      description = {"Node: local disk (in the state folder) for one read cache of share disks, the VMs' clones of a",
          "share group's base disk, so that a base block is read from the store once per node, not once per VM;",
          "0: none (default ${DEFAULT-VALUE})"})
  String shareCache;

  /** The port the livenessprobe sidecar listens on by convention. */
  private static final String DEFAULT_HTTP = ":9808";

  @Override
  public Integer call() throws Exception {
    DriverConfig.Mode parsed;
    try {
      parsed = DriverConfig.Mode.valueOf(mode.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--mode must be controller, node or all, not '" + mode + "'");
    }
    Path journal = store.journalDir().toAbsolutePath();
    Path state = stateDir != null ? stateDir.toAbsolutePath() : journal.resolveSibling("csi-state");
    Path socket = DriverConfig.socketOf(endpoint);
    DriverConfig config = new DriverConfig(parsed, socket, store.nodeId, store.store, journal, state,
        kubeconfig == null ? null : kubeconfig.toAbsolutePath(), gcDuration("--gc-interval", gcInterval),
        gcDuration("--gc-grace", gcGrace), cleaning.cleaning(),
        registrationDir == null ? null : registrationDir.toAbsolutePath(),
        kubeletEndpoint == null ? null : DriverConfig.socketOf("--kubelet-csi-endpoint", kubeletEndpoint),
        (httpAddress == null ? HttpAddress.parse(DEFAULT_HTTP, true) : HttpAddress.parse(httpAddress, false))
            .orElse(null), helperKeeper == null ? null : helperKeeper.toAbsolutePath(),
        DriverConfig.swapPoolOf(swapPool), DriverConfig.shareCacheOf(shareCache));
    CsiDriver driver = CsiDriver.start(config, BuildInfo.version());
    // SIGTERM (the kubelet stopping the pod) closes the driver: the server stops taking calls and
    // served volumes are closed, their journals synced. Staged state stays on disk for the restart.
    Thread shutdown = new Thread(() -> {
      try {
        driver.close();
      } catch (Exception e) {
        System.err.println("remap csi: closing: " + e.getMessage());
      }
    }, "csi-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdown);
    driver.awaitTermination();
    return 0;
  }

  private static java.time.Duration gcDuration(String flag, String text) {
    try {
      return TransferCommands.parseDuration(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + ": " + e.getMessage());
    }
  }
}
