package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segments written without fsync on the file store: the journal keeps what a FLUSH covered and
 * only unsynced segments hold, a barrier (here a drain) syncs them and lets the journal go, what
 * no FLUSH covered leaves the journal without one, the journal never fills for want of one, and a
 * segment torn by a crash is dropped at open and its changes replayed from the journal. {@link
 * LazySegmentPowerCutTest} and {@link LazyRetirementPowerCutTest} do the same under real power cuts.
 */
class LazySegmentTest {

  private static final int BLOCK = 4096;
  private static final long SIZE = 64L << 20;

  @TempDir Path tmp;
  private ObjectStore store;

  @BeforeEach
  void openStore() throws IOException {
    store = FileObjectStore.open(tmp.resolve("store"));
  }

  @AfterEach
  void closeStore() throws IOException {
    store.close();
  }

  /** Small segments and journal files, no cleaning, and a sync only when something asks for it. */
  private static VolumeOptions options(Path journal) {
    return VolumeOptions.defaults(journal)
        .withJournal(16 << 20, 1 << 20)
        .withSegments(64 << 10, Duration.ofMillis(10), 1000)
        .withCleaning(VolumeOptions.Cleaning.defaults().off())
        .withSyncDelay(Duration.ofHours(1));
  }

  /** As {@link #options}, but uploads only when 64 KiB wait, never by age. */
  private static VolumeOptions uploadsBySize(Path journal) {
    return options(journal).withSegments(64 << 10, Duration.ofHours(1), 1000);
  }

  @Test
  void flushedRecordsAreNotRetiredUntilTheSegmentsHoldingThemAreSynced() throws Exception {
    VolumeManager volumes = new VolumeManager(store, options(tmp.resolve("journal")));
    volumes.create("lazy", SIZE, BLOCK, 64 << 10);
    try (Volume volume = volumes.open("lazy")) {
      // A FLUSH early on (before the first journal file could be retired) holds everything after
      // it in the journal too: retirement goes by prefix.
      write(volume, 0, 64 << 10, 1);
      volume.flush();
      write(volume, 64 << 10, (3 << 20) - (64 << 10), 1); // three journal files' worth
      awaitUploaded(volume);
      VolumeStats uploaded = volume.stats();
      assertThat(uploaded.segmentsWritten()).as("segments written").isGreaterThan(10);
      assertThat(uploaded.journalBytes()).as("journal bytes kept for segments not synced yet")
          .isGreaterThanOrEqualTo(3L << 20);
      assertThat(store.stat(StoreLayout.synced(volume.meta().id()))).as("the durable marker before any sync").isEmpty();

      volume.drain(Duration.ofSeconds(30));

      assertThat(volume.stats().journalBytes()).as("journal bytes after the drain synced the segments").isZero();
      long newest = StoreLayout.seqOf(last(store.list(StoreLayout.segmentPrefix(volume.meta().id()))).key());
      assertThat(SegmentWriter.decodeMarker(store.get(StoreLayout.synced(volume.meta().id())), "marker"))
          .as("the newest segment the marker says is durable").isEqualTo(newest);
    }
  }

  @Test
  void recordsNoFlushCoveredLeaveTheJournalWithoutASync() throws Exception {
    VolumeManager volumes = new VolumeManager(store, options(tmp.resolve("journal")));
    volumes.create("lazy", SIZE, BLOCK, 64 << 10);
    try (Volume volume = volumes.open("lazy")) {
      write(volume, 0, 3 << 20, 1);
      awaitUploaded(volume);
      await("the journal let go", () -> volume.stats().journalBytes() == 0);
      assertThat(store.stat(StoreLayout.synced(volume.meta().id()))).as("the durable marker: no barrier ran").isEmpty();
      byte[] seen = new byte[3 << 20];
      volume.read(0, ByteBuffer.wrap(seen));
      assertThat(seen).as("the data, read from segments not synced").isEqualTo(expected(0, 3 << 20, 1));

      volume.write(4 << 20, ByteBuffer.wrap(new byte[BLOCK]), false);
      volume.flush(); // covers the 3 MiB too: a barrier first
      long newest = StoreLayout.seqOf(last(store.list(StoreLayout.segmentPrefix(volume.meta().id()))).key());
      assertThat(SegmentWriter.decodeMarker(store.get(StoreLayout.synced(volume.meta().id())), "marker"))
          .as("the newest segment the marker says is durable after the FLUSH").isEqualTo(newest);
    }
  }

  /**
   * A power cut after records no FLUSH covered left the journal: their segments are gone (never
   * synced), and so are their journal files, so that the journal's first record follows the
   * store's newest with a gap. The open must tell that gap from a journal that does not belong to
   * the store (the journal's note of how far it was retired) and replay what the journal kept.
   */
  @Test
  void aPowerCutAfterUnflushedRecordsLeftTheJournalLeavesAGapTheOpenAccepts() throws Exception {
    Path journal = tmp.resolve("journal");
    // Uploads only when 64 KiB wait, so that a last 4 KiB write stays in the journal.
    VolumeManager volumes = new VolumeManager(store, uploadsBySize(journal));
    VolumeMeta meta = volumes.create("lazy", SIZE, BLOCK, 64 << 10);
    Path crashStore = tmp.resolve("crash-store");
    Path crashJournal = tmp.resolve("crash-journal");
    try (Volume volume = volumes.open("lazy")) {
      write(volume, 0, 64 << 10, 1);
      volume.flush();
      volume.drain(Duration.ofSeconds(30)); // the marker covers these
      write(volume, 1 << 20, 3 << 20, 2);
      awaitUploaded(volume);
      await("the journal let go", () -> volume.stats().journalBytes() == 0);
      volume.write(8 << 20, ByteBuffer.wrap(expected(8 << 20, BLOCK, 3)), false);
      // The disk as a power cut can leave it: the unlinks and the last record written back, the
      // segments after the marker not (removed below).
      CrashCopies.copy(tmp.resolve("store"), crashStore);
      CrashCopies.copy(journal, crashJournal);
    }
    try (ObjectStore crashed = FileObjectStore.open(crashStore)) {
      long marker = SegmentWriter.decodeMarker(crashed.get(StoreLayout.synced(meta.id())), "marker");
      List<String> unsynced = new ArrayList<>();
      for (ObjectInfo info : crashed.list(StoreLayout.segmentPrefix(meta.id()))) {
        if (StoreLayout.isSegment(info.key()) && StoreLayout.seqOf(info.key()) > marker) {
          unsynced.add(info.key());
        }
      }
      assertThat(unsynced).as("segments the cut takes").isNotEmpty();
      crashed.deleteAll(unsynced);
      CrashCopies.dropLeases(crashed);
      VolumeManager reopened = new VolumeManager(crashed, options(crashJournal));
      byte[] later = expected(12 << 20, BLOCK, 4);
      try (Volume volume = reopened.open("lazy")) {
        assertThat(read(volume, 0, 64 << 10)).as("the synced write").isEqualTo(expected(0, 64 << 10, 1));
        assertThat(read(volume, 8 << 20, BLOCK)).as("the record the journal kept, after the gap")
            .isEqualTo(expected(8 << 20, BLOCK, 3));
        byte[] lost = read(volume, 1 << 20, 3 << 20);
        for (int at = 0; at < lost.length; at += 64 << 10) {
          byte[] piece = java.util.Arrays.copyOfRange(lost, at, at + (64 << 10));
          assertThat(piece).as("64 KiB never flushed: whole or gone").isIn(new byte[64 << 10],
              expected((1 << 20) + at, 64 << 10, 2));
        }
        // A write flushed now, then a crash (copied while open): numbered on past the gap, kept.
        volume.write(12 << 20, ByteBuffer.wrap(later), false);
        volume.flush();
        // The journal first: a record the uploader moves to a segment meanwhile is then in one
        // copy or the other, as it is at every moment of the real files.
        CrashCopies.copy(crashJournal, tmp.resolve("second-journal"));
        CrashCopies.copy(crashStore, tmp.resolve("second-store"));
      } finally {
        reopened.stopCollecting();
      }
      try (ObjectStore second = FileObjectStore.open(tmp.resolve("second-store"))) {
        CrashCopies.dropLeases(second);
        VolumeManager again = new VolumeManager(second, options(tmp.resolve("second-journal")));
        try (Volume volume = again.open("lazy")) {
          assertThat(read(volume, 12 << 20, BLOCK)).as("the write flushed after the cut, after a crash").isEqualTo(later);
        } finally {
          again.stopCollecting();
        }
      }
    }
  }

  /**
   * A SIGKILL after records no FLUSH covered left the journal: the page cache keeps the segments
   * holding them, whole though never synced, and the open keeps them (and syncs them), so that a
   * crash of the process loses nothing a plain file would have kept.
   */
  @Test
  void aCrashKeepsWritesNoFlushCoveredThatLeftTheJournal() throws Exception {
    Path journal = tmp.resolve("journal");
    VolumeManager volumes = new VolumeManager(store, options(journal));
    VolumeMeta meta = volumes.create("lazy", SIZE, BLOCK, 64 << 10);
    Path crashStore = tmp.resolve("crash-store");
    Path crashJournal = tmp.resolve("crash-journal");
    try (Volume volume = volumes.open("lazy")) {
      write(volume, 0, 3 << 20, 1);
      awaitUploaded(volume);
      await("the journal let go", () -> volume.stats().journalBytes() == 0);
      CrashCopies.copy(tmp.resolve("store"), crashStore); // as SIGKILL leaves them: the page cache is the disk's
      CrashCopies.copy(journal, crashJournal);
    }
    try (ObjectStore crashed = FileObjectStore.open(crashStore)) {
      assertThat(crashed.stat(StoreLayout.synced(meta.id()))).as("a marker before the crash").isEmpty();
      CrashCopies.dropLeases(crashed);
      VolumeManager reopened = new VolumeManager(crashed, options(crashJournal));
      try (Volume volume = reopened.open("lazy")) {
        assertThat(read(volume, 0, 3 << 20)).as("3 MiB no FLUSH covered, after the crash")
            .isEqualTo(expected(0, 3 << 20, 1));
        long newest = StoreLayout.seqOf(last(crashed.list(StoreLayout.segmentPrefix(meta.id()))).key());
        assertThat(SegmentWriter.decodeMarker(crashed.get(StoreLayout.synced(meta.id())), "marker"))
            .as("the kept segments, synced by the open").isEqualTo(newest);
      } finally {
        reopened.stopCollecting();
      }
    }
  }

  @Test
  @Timeout(120)
  void theJournalNeverFillsWaitingForASync() throws Exception {
    VolumeManager volumes = new VolumeManager(store, options(tmp.resolve("journal")));
    volumes.create("lazy", SIZE, BLOCK, 64 << 10);
    try (Volume volume = volumes.open("lazy")) {
      // Three times the journal's 16 MiB, a FLUSH after every MiB (so the journal keeps what the
      // barriers have not reached), no barrier by age: a quarter of the journal waiting for one
      // must bring it, or these writes wait forever for space.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      for (int pass = 0; pass < 3; pass++) {
        for (int mib = 0; mib < 16; mib++) {
          write(volume, (long) mib << 20, 1 << 20, pass + 1);
          volume.flush();
        }
        assertThat(System.nanoTime()).as("48 MiB written within 60 s").isLessThan(deadline);
      }
    }
  }

  @Test
  void aTornSegmentAndTheOnesAfterItAreDroppedAndReplayedFromTheJournal() throws Exception {
    Path journal = tmp.resolve("journal");
    VolumeManager volumes = new VolumeManager(store, options(journal));
    VolumeMeta meta = volumes.create("lazy", SIZE, BLOCK, 64 << 10);
    Path crashStore = tmp.resolve("crash-store");
    Path crashJournal = tmp.resolve("crash-journal");
    byte[] expected = new byte[4 << 20];
    try (Volume volume = volumes.open("lazy")) {
      write(volume, 0, 2 << 20, 1);
      volume.flush();
      volume.drain(Duration.ofSeconds(30)); // synced: the marker covers these
      // Then 4 KiB writes over the synced ones and a larger one past them, flushed, uploaded, not
      // synced. A FLUSH after the first holds them all in the journal (retirement goes by prefix):
      // otherwise a full journal file of them could leave it unsynced, and the last FLUSH would
      // then run a barrier, syncing the segments this test wants unsynced.
      write(volume, 0, BLOCK, 2);
      volume.flush();
      for (int i = 1; i < 64; i++) {
        write(volume, (long) i * 7 * BLOCK, BLOCK, 2);
      }
      write(volume, 3 << 20, 1 << 20, 3);
      volume.flush();
      awaitUploaded(volume);
      volume.read(0, ByteBuffer.wrap(expected));
      // The disk as a crash of the machine could leave it: the uploader is idle, nothing changes.
      CrashCopies.copy(tmp.resolve("store"), crashStore);
      CrashCopies.copy(journal, crashJournal);
    }
    long marker;
    List<Path> unsynced = new ArrayList<>();
    Path segments = crashStore.resolve(StoreLayout.segmentPrefix(meta.id()));
    try (ObjectStore crashed = FileObjectStore.open(crashStore)) {
      marker = SegmentWriter.decodeMarker(crashed.get(StoreLayout.synced(meta.id())), "marker");
      for (ObjectInfo info : crashed.list(StoreLayout.segmentPrefix(meta.id()))) {
        if (StoreLayout.isSegment(info.key()) && StoreLayout.seqOf(info.key()) > marker) {
          unsynced.add(crashStore.resolve(info.key()));
        }
      }
      // The copy's lease is the running owner's: the reopening process is that owner after its crash.
      crashed.deleteAll(crashed.list(StoreLayout.LEASES).stream().map(ObjectInfo::key).toList());
    }
    assertThat(unsynced).as("segments written after the last sync").hasSizeGreaterThan(2);
    Path torn = unsynced.get(1);
    try (FileChannel channel = FileChannel.open(torn, StandardOpenOption.WRITE)) {
      channel.truncate(channel.size() / 2); // what a power cut leaves of a file written without fsync
    }
    assertThat(segments).isDirectory();

    try (ObjectStore crashed = FileObjectStore.open(crashStore)) {
      VolumeManager reopened = new VolumeManager(crashed, options(crashJournal));
      try (Volume volume = reopened.open("lazy")) {
        byte[] seen = new byte[expected.length];
        volume.read(0, ByteBuffer.wrap(seen));
        assertThat(seen).as("the volume after the torn segment was dropped").isEqualTo(expected);
        volume.drain(Duration.ofSeconds(30));
        // The dropped numbers were written again (put-if-absent found them free), whole this time.
        for (ObjectInfo info : crashed.list(StoreLayout.segmentPrefix(meta.id()))) {
          if (StoreLayout.isSegment(info.key())) {
            SegmentFormat.verify(ByteBuffer.wrap(crashed.get(info.key())), info.key());
          }
        }
        assertThat(crashStore.resolve(StoreLayout.segment(meta.id(), marker + 2))).exists();
      } finally {
        reopened.stopCollecting();
      }
      try (Volume volume = reopened.open("lazy")) {
        byte[] seen = new byte[expected.length];
        volume.read(0, ByteBuffer.wrap(seen));
        assertThat(seen).as("the volume opened again from the store alone").isEqualTo(expected);
      } finally {
        reopened.stopCollecting();
      }
    }
  }

  /**
   * A power cut that keeps a segment no barrier covered (written back whole) and takes from the
   * journal what no flush covered. The segment was packed while a newer write, not flushed and
   * not in its batch, already replaced a flushed one: it must still hold the flushed write (it is
   * packed as of its batch, not from the live mapping). It is kept, and it holds journal numbers
   * the journal lost: new records are numbered on after them, a jump in the journal's last file
   * that the replay after the next crash must accept (a write flushed after the first crash is
   * checked after a second one).
   */
  @Test
  void aSegmentNoBarrierCoveredNeitherLosesAFlushedWriteNorLeavesAGapInTheJournal() throws Exception {
    Path journal = tmp.resolve("journal");
    VolumeManager volumes = new VolumeManager(store, uploadsBySize(journal));
    VolumeMeta meta = volumes.create("lazy", SIZE, BLOCK, 64 << 10);
    Path crashStore = tmp.resolve("crash-store");
    Path crashJournal = tmp.resolve("crash-journal");
    byte[] flushed = new byte[BLOCK];
    new Random(1).nextBytes(flushed);
    try (Volume volume = volumes.open("lazy")) {
      volume.write(0, ByteBuffer.wrap(flushed), false);
      volume.flush();
      // The journal as a power cut leaves it when nothing syncs it after this flush.
      CrashCopies.copy(journal, crashJournal);
      // One batch: 64 KiB elsewhere, then a newer write over the flushed block. The upload takes
      // the flushed write and the 64 KiB (enough for a segment) and leaves the newer write for
      // later, though the flushed block already maps to it.
      byte[] filler = new byte[64 << 10];
      byte[] newer = new byte[BLOCK];
      new Random(2).nextBytes(filler);
      new Random(3).nextBytes(newer);
      volume.writeAll(new long[] {1 << 20, 0}, new ByteBuffer[] {ByteBuffer.wrap(filler), ByteBuffer.wrap(newer)}, 2);
      await("a segment", () -> volume.stats().segmentsWritten() >= 1);
      assertThat(volume.stats().uploadBacklogBytes()).as("the newer write, left for the next segment").isEqualTo(BLOCK);
      // The store as the power cut leaves it: that segment written back whole, no marker.
      CrashCopies.copy(tmp.resolve("store"), crashStore);
    }
    byte[] later = new byte[BLOCK];
    new Random(4).nextBytes(later);
    Path secondStore = tmp.resolve("second-store");
    Path secondJournal = tmp.resolve("second-journal");
    try (ObjectStore crashed = FileObjectStore.open(crashStore)) {
      assertThat(crashed.stat(StoreLayout.synced(meta.id()))).as("a marker before the crash").isEmpty();
      List<ObjectInfo> segments = crashed.list(StoreLayout.segmentPrefix(meta.id())).stream()
          .filter(info -> StoreLayout.isSegment(info.key())).toList();
      assertThat(segments).as("segments the crash left").hasSize(1);
      SegmentFormat.verify(ByteBuffer.wrap(crashed.get(segments.get(0).key())), "the segment the crash left");
      CrashCopies.dropLeases(crashed);
      VolumeManager reopened = new VolumeManager(crashed, options(crashJournal));
      try (Volume volume = reopened.open("lazy")) {
        byte[] seen = new byte[BLOCK];
        volume.read(0, ByteBuffer.wrap(seen));
        assertThat(seen).as("the flushed write after the power cut").isEqualTo(flushed);
        // A write flushed after the crash, then a second crash (as SIGKILL leaves things).
        volume.write(0, ByteBuffer.wrap(later), false);
        volume.flush();
        CrashCopies.copy(crashStore, secondStore);
        CrashCopies.copy(crashJournal, secondJournal);
      } finally {
        reopened.stopCollecting();
      }
    }
    try (ObjectStore second = FileObjectStore.open(secondStore)) {
      CrashCopies.dropLeases(second);
      VolumeManager reopened = new VolumeManager(second, options(secondJournal));
      try (Volume volume = reopened.open("lazy")) {
        byte[] seen = new byte[BLOCK];
        volume.read(0, ByteBuffer.wrap(seen));
        assertThat(seen).as("the write flushed after the first crash, after the second").isEqualTo(later);
      } finally {
        reopened.stopCollecting();
      }
    }
  }

  /** What {@link #write} writes there (length a multiple of 64 KiB, or one piece). */
  private static byte[] expected(long offset, int length, int seed) {
    byte[] all = new byte[length];
    for (int at = 0; at < length; at += Math.min(length, 64 << 10)) {
      byte[] data = new byte[Math.min(length - at, 64 << 10)];
      new Random(seed * 31L + offset + at).nextBytes(data);
      System.arraycopy(data, 0, all, at, data.length);
    }
    return all;
  }

  private static byte[] read(Volume volume, long offset, int length) throws IOException {
    byte[] seen = new byte[length];
    volume.read(offset, ByteBuffer.wrap(seen));
    return seen;
  }

  /** Writes length bytes at offset in 64 KiB pieces, each filled from seed and its offset. */
  private static void write(Volume volume, long offset, int length, int seed) throws IOException {
    for (int at = 0; at < length; at += Math.min(length, 64 << 10)) {
      byte[] data = new byte[Math.min(length - at, 64 << 10)];
      new Random(seed * 31L + offset + at).nextBytes(data);
      volume.write(offset + at, ByteBuffer.wrap(data), false);
    }
  }

  private static void awaitUploaded(Volume volume) throws InterruptedException {
    await("uploaded", () -> volume.stats().uploadBacklogBytes() == 0);
  }

  /** Polls condition until it holds, failing after 30 s. */
  private static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what + " within 30 s").isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private static ObjectInfo last(List<ObjectInfo> infos) {
    return infos.get(infos.size() - 1);
  }
}
