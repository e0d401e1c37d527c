package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One served volume with a cleaner that runs all the time, while three writers write, trim,
 * zero, flush and read back their own blocks, a collector deletes what the cleaner empties, and
 * snapshots are taken, read back and deleted. Every read must equal a simple model of the
 * volume (a byte array); every snapshot must equal the model at the moment it was taken, for as
 * long as it exists; and after all that the volume must reopen equal to the model.
 *
 * <p>Locking: each writer changes only its own third of the volume and of the model, holding the
 * read side of {@code pause} for each operation; the snapshot thread takes the write side, so the
 * model it copies and the snapshot it takes are the same cut.
 */
class CleanerConcurrencyTest {

  private static final String VOLUME = "busy";
  private static final int BLOCK = 4096;
  private static final int BLOCKS = 2048;
  private static final int SIZE = BLOCKS * BLOCK;
  private static final int WRITERS = 3;
  private static final Duration RUN = Duration.ofSeconds(16);
  /** Writers change the volume for the first part of every cycle and only read in the rest. */
  private static final long CYCLE_MILLIS = 600;
  private static final long CHANGING_MILLIS = 400;
  private static final int ENOUGH_PROBLEMS = 20;

  @TempDir Path tmp;

  private final byte[] model = new byte[SIZE];
  private final ReentrantReadWriteLock pause = new ReentrantReadWriteLock();
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicLong reads = new AtomicLong();
  private final AtomicLong collectedSegments = new AtomicLong();
  /** Snapshots that exist, oldest first; the snapshot thread's own until it has stopped. */
  private final Deque<Taken> snapshots = new ArrayDeque<>();
  private int snapshotsTaken;
  private long started;

  private record Taken(String name, byte[] content, long takenNanos) {}

  @Test
  void cleaningWhileWritingTrimmingSnapshottingAndCollectingLosesNothing() throws Exception {
    // The cleaner logs each plan, several a second here.
    Logger cleanerLog = Logger.getLogger(SegmentCleaner.class.getName());
    Level level = cleanerLog.getLevel();
    cleanerLog.setLevel(Level.WARNING);
    try (ObjectStore store = FileObjectStore.open(tmp.resolve("store"))) {
      VolumeManager volumes = new VolumeManager(store, CleanerCrashWriter.options(tmp.resolve("journal"), true));
      String segments = StoreLayout.segmentPrefix(volumes.create(VOLUME, SIZE, BLOCK, 64 << 10).id());
      long cleaned;
      try (Volume volume = volumes.open(VOLUME)) {
        started = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
          int writer = w;
          threads.add(thread("writer-" + w, () -> write(volume, writer)));
        }
        threads.add(thread("collector", () -> collect(store, segments)));
        threads.add(thread("snapshots", () -> snapshot(volumes, volume)));
        long deadline = started + RUN.toNanos();
        while (System.nanoTime() < deadline && problems.size() < ENOUGH_PROBLEMS
            && threads.stream().anyMatch(Thread::isAlive)) {
          Thread.sleep(50);
        }
        stop.set(true);
        for (Thread t : threads) {
          t.join();
        }
        cleaned = volume.stats().cleanedBytes();
        System.out.printf("CleanerConcurrencyTest: %d reads checked, %d bytes cleaned, %d segments collected, "
            + "%d snapshots taken, stats %s%n", reads.get(), cleaned, collectedSegments.get(), snapshotsTaken,
            volume.stats());
      } finally {
        volumes.stopCollecting();
      }
      assertThat(problems).as("reads that differed from the model, and failures").isEmpty();
      assertThat(cleaned).as("bytes the cleaner copied").isPositive();
      assertThat(collectedSegments.get()).as("segments collected while served").isPositive();
      assertThat(snapshotsTaken).as("snapshots taken").isGreaterThanOrEqualTo(5);

      VolumeManager reopened = new VolumeManager(store, CleanerCrashWriter.options(tmp.resolve("journal"), false));
      try {
        checkVolume(reopened, "reopened");
        new GarbageCollector(store, Duration.ZERO).run();
        for (Taken taken : snapshots) {
          checkSnapshot(reopened, taken);
        }
        checkVolume(reopened, "reopened after a collection");
      } finally {
        reopened.stopCollecting();
      }
      assertThat(problems).as("the volume and its snapshots after the run").isEmpty();
    } finally {
      cleanerLog.setLevel(level);
    }
  }

  /** Random changes to this writer's third, mostly to the first quarter of it; reads checked against the model. */
  private void write(Volume volume, int writer) {
    int first = writer * BLOCKS / WRITERS;
    int end = (writer + 1) * BLOCKS / WRITERS;
    int hot = (end - first) / 4;
    Random random = new Random(100 + writer);
    try {
      while (!stop.get()) {
        int block = first + (random.nextInt(10) < 7 ? random.nextInt(hot) : random.nextInt(end - first));
        int op = changing() ? random.nextInt(100) : 100;
        pause.readLock().lock();
        try {
          if (op < 45) {
            int n = Math.min(1 + random.nextInt(8), end - block);
            byte[] data = new byte[n * BLOCK];
            random.nextBytes(data);
            volume.write((long) block * BLOCK, ByteBuffer.wrap(data), random.nextInt(20) == 0);
            System.arraycopy(data, 0, model, block * BLOCK, data.length);
          } else if (op < 53) {
            int n = Math.min(1 + random.nextInt(32), end - block);
            volume.trim((long) block * BLOCK, (long) n * BLOCK, false);
            Arrays.fill(model, block * BLOCK, (block + n) * BLOCK, (byte) 0);
          } else if (op < 61) {
            int n = Math.min(1 + random.nextInt(32), end - block);
            volume.writeZeroes((long) block * BLOCK, (long) n * BLOCK, random.nextBoolean(), false);
            Arrays.fill(model, block * BLOCK, (block + n) * BLOCK, (byte) 0);
          } else if (op < 65) {
            volume.flush();
          } else {
            int n = Math.min(1 + random.nextInt(16), end - block);
            ByteBuffer read = ByteBuffer.allocate(n * BLOCK);
            volume.read((long) block * BLOCK, read);
            reads.incrementAndGet();
            compare("writer " + writer + " reading blocks " + block + "-" + (block + n - 1), read.array(),
                model, block * BLOCK);
          }
        } finally {
          pause.readLock().unlock();
        }
        // Bounds the rate (a few MiB/s): the uploader keeps up and has turns for cleaning.
        Thread.sleep(op < 65 ? 2 : 1);
      }
    } catch (Exception e) {
      problems.add("writer " + writer + " failed: " + e);
    }
  }

  /** Whether writers change the volume now; in the rest of each cycle they only read, and the cleaner runs. */
  private boolean changing() {
    return (System.nanoTime() - started) / 1_000_000 % CYCLE_MILLIS < CHANGING_MILLIS;
  }

  /** Collects with no grace, again and again, counting the volume's segments that disappear. */
  private void collect(ObjectStore store, String segments) {
    Random random = new Random(200);
    while (!stop.get()) {
      try {
        Set<String> before = CleanerCrashWriter.keys(store, segments);
        new GarbageCollector(store, Duration.ZERO).run();
        before.removeAll(CleanerCrashWriter.keys(store, segments));
        collectedSegments.addAndGet(before.size());
        Thread.sleep(random.nextInt(20));
      } catch (Exception e) {
        problems.add("a collection failed: " + e);
      }
    }
  }

  /**
   * Takes a snapshot about every second with the writers paused; checks the older ones while the
   * cleaner and the collector work around them, keeping the newest three and deleting the rest
   * (so that their segments become the cleaner's and the collector's again).
   */
  private void snapshot(VolumeManager volumes, Volume volume) {
    Random random = new Random(300);
    try {
      while (!stop.get()) {
        Thread.sleep(600 + random.nextInt(600));
        String name = "s" + snapshotsTaken;
        byte[] content;
        pause.writeLock().lock();
        try {
          content = model.clone();
          volumes.snapshot(volume, name);
        } finally {
          pause.writeLock().unlock();
        }
        snapshotsTaken++;
        snapshots.addLast(new Taken(name, content, System.nanoTime()));
        for (Taken taken : snapshots) {
          if (System.nanoTime() - taken.takenNanos() > 500_000_000L) {
            checkSnapshot(volumes, taken);
          }
        }
        while (snapshots.size() > 3) {
          Taken oldest = snapshots.removeFirst();
          checkSnapshot(volumes, oldest);
          volumes.deleteSnapshot(VOLUME, oldest.name());
        }
      }
    } catch (Exception e) {
      problems.add("the snapshot thread failed: " + e);
    }
  }

  private void checkSnapshot(VolumeManager volumes, Taken taken) throws IOException {
    try (SnapshotDevice device = volumes.openSnapshot(VOLUME, taken.name())) {
      ByteBuffer read = ByteBuffer.allocate(SIZE);
      device.read(0, read);
      compare("snapshot " + taken.name(), read.array(), taken.content(), 0);
    }
  }

  private void checkVolume(VolumeManager volumes, String when) throws IOException {
    try (Volume volume = volumes.open(VOLUME)) {
      ByteBuffer read = ByteBuffer.allocate(SIZE);
      volume.read(0, read);
      compare("the volume " + when, read.array(), model, 0);
    }
  }

  /** Records where actual first differs from expected[from...], by block, and whether it reads as zeros. */
  private void compare(String what, byte[] actual, byte[] expected, int from) {
    int at = Arrays.mismatch(actual, 0, actual.length, expected, from, from + actual.length);
    if (at < 0) {
      return;
    }
    int blockStart = at - at % BLOCK;
    boolean zeros = Arrays.equals(actual, blockStart, blockStart + BLOCK, new byte[BLOCK], 0, BLOCK);
    boolean expectedZeros = Arrays.equals(expected, from + blockStart, from + blockStart + BLOCK, new byte[BLOCK], 0, BLOCK);
    problems.add(what + ": differs from the model first at volume block " + (from + at) / BLOCK + " byte "
        + at % BLOCK + " (read " + (zeros ? "zeros" : "data") + ", expected " + (expectedZeros ? "zeros" : "data") + ")");
  }

  private static Thread thread(String name, Runnable body) {
    Thread t = new Thread(body, "cleaner-concurrency-" + name);
    t.start();
    return t;
  }
}
