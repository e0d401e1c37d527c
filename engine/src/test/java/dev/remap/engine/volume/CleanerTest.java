package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.CleaningPolicy;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user of the store checks: after overwrites, trims and a collection, the store holds about
 * the data kept, not the data written; snapshots and clones keep what they reference and are not
 * multiplied by cleaning.
 */
class CleanerTest {

  private static final int BLOCK = 4096;
  private static final long SIZE = 16L << 20;
  private static final int BLOCKS = (int) (SIZE / BLOCK);

  @TempDir Path tmp;
  protected ObjectStore store;
  private VolumeManager volumes;

  @BeforeEach
  void open() throws Exception {
    store = openStore();
    volumes = new VolumeManager(store, options(tmp.resolve("journal")));
  }

  /** The store the volumes live in: a file store here, a real S3 server in {@link CleanerS3Test}. */
  protected ObjectStore openStore() throws Exception {
    return FileObjectStore.open(tmp.resolve("store"));
  }

  /** Cleaning at test speed: measured every 200 ms, quiet after 300 ms, collected on request only. */
  static VolumeOptions.Cleaning atTestSpeed() {
    CleaningPolicy.Settings policy = new CleaningPolicy.Settings(1.2, 1.6, 0.05, 256 << 10, 64L << 20, 0.95,
        CleaningPolicy.Order.COST_BENEFIT);
    return new VolumeOptions.Cleaning(true, policy, Duration.ofMillis(200), 1L << 30,
        Duration.ofMillis(300), Duration.ZERO, Duration.ZERO);
  }

  private static VolumeOptions options(Path journal) {
    // A journal smaller than the volume, so that steady writes keep uploads due all along.
    return VolumeOptions.defaults(journal)
        .withJournal(4 << 20, 1 << 20)
        .withSegments(512 << 10, Duration.ofMillis(20), 4)
        .withCleaning(atTestSpeed());
  }

  @AfterEach
  void close() throws Exception {
    volumes.stopCollecting();
    store.close();
  }

  @Test
  void overwrittenVolumeShrinksBackToAboutItsDataAndKeepsEveryByte() throws Exception {
    volumes.create("disk", SIZE, BLOCK, 64 << 10);
    byte[][] model = new byte[BLOCKS][];
    Random random = new Random(1);
    try (Volume volume = volumes.open("disk")) {
      fill(volume, model, random);
      for (int i = 0; i < 4 * BLOCKS; i++) {
        write(volume, model, random.nextInt(BLOCKS), random);
      }
      volume.drain(Duration.ofSeconds(30));
      // Quiet now: the cleaner brings the volume to its target, then asks for a collection.
      eventually(60, () -> amplificationAfterCollection() <= 1.3);
      VolumeStats stats = volume.stats();
      assertThat(stats.cleanedBytes()).as("live bytes copied by the cleaner").isPositive();
      assertThat(stats.writeAmplification()).as("segment bytes per client byte").isLessThan(2.5);
      verify(volume, model);
    }
    try (Volume reopened = volumes.open("disk")) {
      verify(reopened, model);
    }
  }

  @Test
  void cleaningKeepsUpWithWritesThatNeverPause() throws Exception {
    volumes.create("disk", SIZE, BLOCK, 64 << 10);
    byte[][] model = new byte[BLOCKS][];
    Random random = new Random(5);
    try (Volume volume = volumes.open("disk")) {
      fill(volume, model, random);
      // Writes without a pause for 8 s: an upload is always due, and the cleaner must still get
      // its turns, or the store grows by everything written until the writes stop. The writes keep
      // a steady pace (six times the disk a second, up to 768 MiB in all; uncleaned the store would hold
      // about 48 times the disk) so that what the cleaner has to keep up with is the same on every
      // machine: unpaced, a faster build or an idle machine wrote 688 MiB in one run and 1,658 in
      // another, and the store's multiple followed the writer's speed, not whether cleaning works.
      long perSecond = 6 * SIZE;
      long written = 0;
      long start = System.nanoTime();
      long until = start + Duration.ofSeconds(8).toNanos();
      while (System.nanoTime() < until) {
        long due = (System.nanoTime() - start) * perSecond / 1_000_000_000L;
        if (written >= due) {
          LockSupport.parkNanos(1_000_000);
          continue;
        }
        write(volume, model, random.nextInt(BLOCKS), random);
        written += BLOCK;
      }
      VolumeStats busy = volume.stats();
      assertThat(busy.cleanedBytes()).as("cleaned while the writes went on").isPositive();
      new GarbageCollector(store, Duration.ZERO).run();
      double perLive = (double) segmentBytes(volume.meta().id()) / SIZE;
      System.out.printf("cleaning while busy: %d MiB written, store %.2f x the disk%n", written >> 20, perLive);
      // Cleaned while busy it stays a small multiple of the disk (2.0 to 2.8 in six runs at this
      // pace on this 2-core machine, alone and with a busy loop on one core); the bound fails if
      // cleaning stops keeping up.
      assertThat(perLive).as("store per live byte after %d MiB written, cleaning while busy", written >> 20)
          .isLessThan(4.0);
      verify(volume, model);
    }
  }

  @Test
  void cleaningOnTwoNodesThatHandTheVolumeBackAndForthKeepsEveryByte() throws Exception {
    volumes.create("disk", SIZE, BLOCK, 64 << 10);
    // A second node on the same store: each write on the node that does not own the volume
    // takes it over (the owner drains, checkpoints and hands over), in the middle of cleaning.
    VolumeManager first = new VolumeManager(store, options(tmp.resolve("journal-a")).withNode("node-a")
        .withLease(Duration.ofSeconds(2), Duration.ofSeconds(30)));
    VolumeManager other = new VolumeManager(store, options(tmp.resolve("journal-b")).withNode("node-b")
        .withLease(Duration.ofSeconds(2), Duration.ofSeconds(30)));
    byte[][] model = new byte[BLOCKS][];
    Random random = new Random(6);
    long cleaned = 0;
    try (Volume a = first.open("disk"); Volume b = other.open("disk")) {
      fill(a, model, random);
      for (int round = 0; round < 6; round++) {
        Volume writer = round % 2 == 0 ? b : a;
        for (int i = 0; i < BLOCKS; i++) {
          write(writer, model, random.nextInt(BLOCKS), random);
        }
        // Quiet for a moment: the owner measures and cleans until the next round takes it away.
        Thread.sleep(700);
        cleaned += writer.stats().cleanedBytes();
        verify(round % 2 == 0 ? a : b, model);
      }
      assertThat(cleaned + a.stats().cleanedBytes() + b.stats().cleanedBytes())
          .as("both nodes cleaned while they owned the volume").isPositive();
    } finally {
      first.stopCollecting();
      other.stopCollecting();
    }
    new GarbageCollector(store, Duration.ZERO).run();
    try (Volume reopened = volumes.open("disk")) {
      verify(reopened, model);
    }
  }

  @Test
  void trimmedDataStopsCountingAndLeavesTheStore() throws Exception {
    volumes.create("disk", SIZE, BLOCK, 64 << 10);
    byte[][] model = new byte[BLOCKS][];
    Random random = new Random(2);
    try (Volume volume = volumes.open("disk")) {
      fill(volume, model, random);
      volume.drain(Duration.ofSeconds(30));
      long full = segmentBytes(volume.meta().id());
      // fstrim of a filesystem whose files were deleted: most of the disk is discarded.
      volume.trim(0, SIZE * 3 / 4, false);
      volume.writeZeroes(SIZE * 3 / 4, SIZE / 8, false, false);
      Arrays.fill(model, 0, BLOCKS * 7 / 8, null);
      // No drain: the trims reach the store after the upload delay, as a guest's fstrim would.
      eventually(60, () -> {
        new GarbageCollector(store, Duration.ZERO).run();
        return segmentBytes(volume.meta().id()) <= full / 8 + (256 << 10);
      });
      verify(volume, model);
    }
  }

  @Test
  void snapshotKeepsItsSegmentsAndCleaningDoesNotCopyThem() throws Exception {
    volumes.create("disk", SIZE, BLOCK, 64 << 10);
    byte[][] model = new byte[BLOCKS][];
    Random random = new Random(3);
    try (Volume volume = volumes.open("disk")) {
      fill(volume, model, random);
      volumes.snapshot(volume, "before");
      byte[][] atSnapshot = model.clone();
      long base = segmentBytes(volume.meta().id());
      // Overwrite half the disk several times: the snapshot still needs every base segment.
      for (int i = 0; i < 3 * BLOCKS / 2; i++) {
        write(volume, model, random.nextInt(BLOCKS / 2), random);
      }
      volume.drain(Duration.ofSeconds(30));
      eventually(60, () -> {
        new GarbageCollector(store, Duration.ZERO).run();
        // The base stays whole for the snapshot; the overwrites shrink to about half a disk.
        return segmentBytes(volume.meta().id()) <= base + (long) (1.3 * SIZE / 2);
      });
      assertThat(segmentBytes(volume.meta().id())).isGreaterThanOrEqualTo(base);
      verify(volume, model);
      try (var snapshot = volumes.openSnapshot("disk", "before")) {
        verify(snapshot, atSnapshot);
      }
    }
  }

  @Test
  void clonesOfOneBaseDoNotEachCopyTheBase() throws Exception {
    volumes.create("base", SIZE, BLOCK, 64 << 10);
    byte[][] baseModel = new byte[BLOCKS][];
    Random random = new Random(4);
    try (Volume base = volumes.open("base")) {
      fill(base, baseModel, random);
      volumes.snapshot(base, "golden");
    }
    for (String name : new String[] {"vm1", "vm2"}) {
      volumes.clone("base", "golden", name);
    }
    // The snapshot is gone; the clones' own checkpoints are what keeps the base's segments.
    volumes.deleteSnapshot("base", "golden");
    long clonesOwn = 0;
    for (String name : new String[] {"vm1", "vm2"}) {
      byte[][] model = baseModel.clone();
      try (Volume clone = volumes.open(name)) {
        for (int i = 0; i < BLOCKS; i++) {
          write(clone, model, random.nextInt(BLOCKS / 10), random);
        }
        clone.drain(Duration.ofSeconds(30));
        String id = clone.meta().id();
        eventually(60, () -> {
          new GarbageCollector(store, Duration.ZERO).run();
          return segmentBytes(id) <= 1.3 * SIZE / 10;
        });
        verify(clone, model);
        clonesOwn += segmentBytes(id);
      }
    }
    try (Volume base = volumes.open("base")) {
      // Half the base overwritten: its first segments are half dead for the base, but the clones
      // reference all of them, so cleaning them would only store their live half twice.
      long original = segmentBytes(base.meta().id());
      for (int i = 0; i < 3 * BLOCKS / 2; i++) {
        write(base, baseModel, random.nextInt(BLOCKS / 2), random);
      }
      base.drain(Duration.ofSeconds(30));
      eventually(60, () -> {
        new GarbageCollector(store, Duration.ZERO).run();
        return segmentBytes(base.meta().id()) <= original + (long) (1.3 * SIZE / 2);
      });
      verify(base, baseModel);
    }
    new GarbageCollector(store, Duration.ZERO).run();
    long total = 0;
    for (ObjectInfo info : store.list("segments/")) {
      total += info.size();
    }
    assertThat(total).as("base, its rewritten half, and each clone's own tenth; no private copy of the base")
        .isLessThanOrEqualTo((long) (1.3 * (SIZE + SIZE / 2 + 2 * SIZE / 10)));
    assertThat(clonesOwn).isLessThanOrEqualTo((long) (2 * 1.3 * SIZE / 10));
  }

  @FunctionalInterface
  interface Condition {
    boolean holds() throws Exception;
  }

  /** Polls until the condition holds; fails after seconds (the cleaner works in the background). */
  static void eventually(int seconds, Condition condition) throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!condition.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not reached within " + seconds + " s");
      }
      Thread.sleep(100);
    }
  }

  private double amplificationAfterCollection() throws Exception {
    new GarbageCollector(store, Duration.ZERO).run();
    VolumeMeta meta = volumes.meta("disk");
    return (double) segmentBytes(meta.id()) / SIZE;
  }

  private long segmentBytes(String id) throws Exception {
    long total = 0;
    for (ObjectInfo info : store.list(StoreLayout.segmentPrefix(id))) {
      total += info.size();
    }
    return total;
  }

  private static void fill(Volume volume, byte[][] model, Random random) throws Exception {
    for (int block = 0; block < BLOCKS; block++) {
      write(volume, model, block, random);
    }
  }

  private static void write(Volume volume, byte[][] model, int block, Random random) throws Exception {
    byte[] data = new byte[BLOCK];
    random.nextBytes(data);
    volume.write((long) block * BLOCK, ByteBuffer.wrap(data), false);
    model[block] = data;
  }

  private static void verify(dev.remap.engine.block.BlockDevice device, byte[][] model) throws Exception {
    ByteBuffer buffer = ByteBuffer.allocate(BLOCK);
    byte[] zeros = new byte[BLOCK];
    for (int block = 0; block < BLOCKS; block++) {
      buffer.clear();
      device.read((long) block * BLOCK, buffer);
      byte[] expected = model[block] == null ? zeros : model[block];
      assertThat(Arrays.equals(buffer.array(), expected)).as("block %d", block).isTrue();
    }
  }
}
