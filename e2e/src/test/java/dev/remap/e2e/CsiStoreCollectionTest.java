package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.csi.spec.Csi;
import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CSI controller gives a deleted volume's space back by itself: DeleteVolume leaves the
 * volume's data segments in the store, and the controller's periodic garbage collection
 * (--gc-interval, here 1 s) removes them, while a volume that stays reads back whole after many
 * collections.
 */
class CsiStoreCollectionTest {

  static final long MIB = 1 << 20;

  @Test
  void aDeletedVolumesDataLeavesTheStoreAndAKeptVolumeStaysWhole(@TempDir Path dir) {
    Path store = dir.resolve("store");
    try (CsiClient csi = CsiClient.start(dir, "controller", "file://" + store, "node-a", Map.of(),
        "--gc-interval", "1s", "--gc-grace", "1s")) {
      Csi.VolumeCapability block = CsiClient.block(Csi.VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER);
      String gone = csi.create("gone", 16 * MIB, block).getVolumeId();
      String kept = csi.create("kept", 16 * MIB, block).getVolumeId();
      qemuIo(dir, store, gone, "write -P 0x11 0 8M");
      qemuIo(dir, store, kept, "write -P 0x22 0 8M");
      long before = bytesUnder(store.resolve("segments"));
      assertThat(before).as("both volumes' 8 MiB are in the store").isGreaterThanOrEqualTo(16 * MIB);

      csi.controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(gone).build());
      Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
      while (bytesUnder(store.resolve("segments")) > before - 8 * MIB) {
        assertThat(Instant.now()).as("the deleted volume's 8 MiB collected; the controller said:%n%s",
            csi.driver.output()).isBefore(deadline);
        sleep(Duration.ofMillis(500));
      }
      assertThat(csi.driver.output()).contains("store garbage collection: deleted");

      String read = qemuIo(dir, store, kept, "read -P 0x22 0 8M", "read -P 0 8M 8M");
      assertThat(read).doesNotContain("Pattern verification failed").contains("read 8388608/8388608");
    }
  }

  /** Runs qemu-io commands on the volume through a `./remap serve` of the store (what a VM's node does). */
  private static String qemuIo(Path dir, Path store, String volume, String... commands) {
    Path socket = dir.resolve("serve.sock");
    try (BackgroundProcess serve = BackgroundProcess.start(RemapPaths.root().resolve("remap").toString(), "serve",
        "--store", "file://" + store, "--socket", socket.toString(), "--node-id", "writer",
        "--journal", dir.resolve("serve-journal").toString())) {
      serve.awaitSocket(socket, Duration.ofSeconds(60));
      java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("qemu-io", "-f", "raw"));
      for (String c : commands) {
        command.add("-c");
        command.add(c);
      }
      command.add("nbd+unix:///" + volume + "?socket=" + socket);
      return Proc.run(Duration.ofMinutes(2), Map.of(), command).requireSuccess().output();
    } finally {
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static long bytesUnder(Path dir) {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0; // collected while we walked
        }
      }).sum();
    } catch (IOException | UncheckedIOException e) {
      return Long.MAX_VALUE; // a folder vanished mid-walk: look again
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
