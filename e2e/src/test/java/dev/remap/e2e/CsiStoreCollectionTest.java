package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.csi.spec.Csi;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
      RemapServe.qemuIo("file://" + store, dir, "writer", gone, false, "write -P 0x11 0 8M");
      RemapServe.qemuIo("file://" + store, dir, "writer", kept, false, "write -P 0x22 0 8M");
      long before = bytesUnder(store.resolve("segments"));
      assertThat(before).as("both volumes' 8 MiB are in the store").isGreaterThanOrEqualTo(16 * MIB);

      csi.controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId(gone).build());
      // Fails with the controller's output if its collections do not free the 8 MiB in time. The
      // files go during the collection's delete and its log line follows it: wait for both.
      csi.driver.awaitReady(Duration.ofSeconds(60), () -> bytesUnder(store.resolve("segments")) <= before - 8 * MIB
          && csi.driver.output().contains("store garbage collection: deleted"));

      String read = RemapServe.qemuIo("file://" + store, dir, "writer", kept, false, "read -P 0x22 0 8M", "read -P 0 8M 8M");
      assertThat(read).doesNotContain("Pattern verification failed").contains("read 8388608/8388608");
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
}
