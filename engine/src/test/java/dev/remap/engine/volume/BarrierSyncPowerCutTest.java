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
 * A barrier makes segments durable without syncing the journal. {@link BarrierSyncWriter} has a
 * segment made durable by a barrier while the journal holds, unsynced, records up to and past the
 * segment's (no FLUSH after the first write); then the power is cut. Afterwards the flushed write
 * must be there (the segment holds it: it is packed as of its batch), and a write flushed after
 * the cut must survive a crash after it: the marker covers journal numbers the cut took from the
 * journal, so new records are numbered on past that gap in the journal's last file, and the
 * replay after the next crash must take the gap for records the store holds, not for a torn tail
 * (it fails with the journal's recovery refusing that jump, {@code JournalRecovery.floor}
 * without the store's number). When the barrier synced the journal first this window could not
 * open; the sync went when segments came to be packed as of their batch and the recovery came to
 * accept the jump a whole unsynced segment leaves, which is the same state.
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
  void aWriteFlushedAfterAPowerCutThatTookJournalRecordsADurableSegmentHoldsSurvivesTheNextCrash() throws Exception {
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

    byte[] later = new byte[BarrierSyncWriter.BLOCK];
    java.util.Arrays.fill(later, (byte) 9);
    Path copiedStore = tmp.resolve("copy-store");
    Path copiedJournal = tmp.resolve("copy-journal");
    try (ObjectStore s = FileObjectStore.open(store)) {
      // The killed writer's lease: the process opening it now stands for that writer after its crash.
      CrashCopies.dropLeases(s);
      VolumeManager volumes = new VolumeManager(s, BarrierSyncWriter.options(journal));
      try (Volume volume = volumes.open(BarrierSyncWriter.VOLUME)) {
        ByteBuffer seen = ByteBuffer.allocate(BarrierSyncWriter.BLOCK);
        volume.read(0, seen);
        // The flushed write, or the newer one (not flushed, so either may be what a cut leaves).
        assertThat(seen.flip()).as("block 0 after the power cut (%s)", mount.log())
            .isIn(BarrierSyncWriter.block(1), BarrierSyncWriter.block(2));
        // A write flushed now, then a crash (as SIGKILL leaves the files: copied while open).
        volume.write(0, ByteBuffer.wrap(later), false);
        volume.flush();
        // The journal first: a record the uploader moves to a segment meanwhile is then in one
        // copy or the other, as it is at every moment of the real files.
        CrashCopies.copy(journal, copiedJournal);
        CrashCopies.copy(store, copiedStore);
      } finally {
        volumes.stopCollecting();
      }
    }
    try (ObjectStore s = FileObjectStore.open(copiedStore)) {
      CrashCopies.dropLeases(s);
      VolumeManager volumes = new VolumeManager(s, BarrierSyncWriter.options(copiedJournal));
      try (Volume volume = volumes.open(BarrierSyncWriter.VOLUME)) {
        ByteBuffer seen = ByteBuffer.allocate(BarrierSyncWriter.BLOCK);
        volume.read(0, seen);
        assertThat(seen.flip()).as("block 0, flushed after the power cut, after a crash").isEqualTo(ByteBuffer.wrap(later));
      } finally {
        volumes.stopCollecting();
      }
    }
  }
}
