package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.testkit.PowerCutMount;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A barrier syncs the journal before it makes segments durable. A segment is packed from the live
 * mapping, which may already hold a newer write, not flushed, in place of a flushed one the
 * segment therefore skips ({@link BarrierSyncWriter} sets that up for sure). Once the barrier
 * made the segment durable, only the journal holds the newer write: if the barrier did not sync
 * it, a power cut drops it and the block reads as it was before the flushed write. Nothing else
 * syncs the journal in that window (no FLUSH; the uploader does not sync it per segment on a store
 * that defers durability). The random cuts of {@link LazySegmentPowerCutTest} do not reach this
 * window reliably: they passed with the barrier's journal sync removed.
 */
class BarrierSyncPowerCutTest {

  @TempDir Path tmp;
  private PowerCutMount mount;

  @AfterEach
  void unmount() {
    if (mount != null) {
      mount.close();
    }
  }

  @Test
  @Timeout(120)
  void aBarrierSyncsTheJournalBeforeTheSegmentsThatSkippedAFlushedWrite() throws Exception {
    Path backing = Files.createDirectories(tmp.resolve("backing"));
    Path mounted = Files.createDirectories(tmp.resolve("mnt"));
    mount = PowerCutMount.mount(backing, mounted, PowerCutMount.Model.STRICT);
    Path store = mounted.resolve("store");
    Path journal = mounted.resolve("journal");
    Process child = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        CleanerCrashTest.privateClassPath(tmp), BarrierSyncWriter.class.getName(), store.toString(), journal.toString()))
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    String barrier = null;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.startsWith("BARRIER")) {
          barrier = line;
          break;
        }
      }
      assertThat(barrier).as("the writer reached the barrier").isNotNull();
      assertThat(barrier).as("the newer write still waiting for upload at the barrier")
          .isEqualTo("BARRIER " + BarrierSyncWriter.BLOCK);
      mount.cut();
    } finally {
      child.toHandle().destroyForcibly();
      child.waitFor();
    }
    mount.close();
    mount = PowerCutMount.mount(backing, mounted, PowerCutMount.Model.STRICT);

    try (ObjectStore s = FileObjectStore.open(store)) {
      // The killed writer's lease: the process opening it now stands for that writer after its crash.
      s.deleteAll(s.list(StoreLayout.LEASES).stream().map(ObjectInfo::key).toList());
      VolumeManager volumes = new VolumeManager(s, BarrierSyncWriter.options(journal));
      try (Volume volume = volumes.open(BarrierSyncWriter.VOLUME)) {
        ByteBuffer seen = ByteBuffer.allocate(BarrierSyncWriter.BLOCK);
        volume.read(0, seen);
        // The flushed write, or the newer one (not flushed, so either may be what a cut leaves).
        assertThat(seen.flip()).as("block 0 after the power cut (%s)", mount.log())
            .isIn(BarrierSyncWriter.block(1), BarrierSyncWriter.block(2));
      } finally {
        volumes.stopCollecting();
      }
    }
  }
}
