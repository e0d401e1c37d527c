package dev.remap.e2e;

import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A `./remap serve` of a store for the length of one NBD client run: how tests write and read a
 * volume the way a VM's node would. Closed (its journal drained to the store) when the client is done.
 */
final class RemapServe {

  static final Duration TIMEOUT = Duration.ofMinutes(3);

  private RemapServe() {}

  /**
   * Serves store as node {@code name} (socket and journal named after it, under dir) while the
   * command made from the volume's NBD URI runs; its output, which must say it succeeded.
   */
  static String run(String store, Path dir, String name, String volume, Function<String, List<String>> command) {
    Path socket = dir.resolve(name + ".sock");
    try {
      // A socket left by an earlier serve of the same name would look ready at once.
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (BackgroundProcess serve = BackgroundProcess.start(RemapPaths.root().resolve("remap").toString(), "serve",
        "--store", store, "--socket", socket.toString(), "--node-id", name,
        "--journal", dir.resolve(name + "-journal").toString())) {
      serve.awaitSocket(socket, Duration.ofSeconds(60));
      return Proc.run(TIMEOUT, Map.of(), command.apply("nbd+unix:///" + volume + "?socket=" + socket))
          .requireSuccess().output();
    }
  }

  /** qemu-io with these commands (-c each) on the volume, opened read-only when asked. */
  static String qemuIo(String store, Path dir, String name, String volume, boolean readOnly, String... commands) {
    return run(store, dir, name, volume, uri -> {
      List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
      if (readOnly) {
        command.add("-r");
      }
      for (String c : commands) {
        command.add("-c");
        command.add(c);
      }
      command.add(uri);
      return command;
    });
  }
}
