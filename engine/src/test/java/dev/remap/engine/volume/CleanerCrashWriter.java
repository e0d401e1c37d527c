package dev.remap.engine.volume;

import dev.remap.engine.core.CleaningPolicy;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The child process of {@link CleanerCrashTest}: overwrites random blocks of a small volume in
 * rounds, with a cleaner tuned to run all the time and a garbage collector deleting what it
 * empties, until it is killed. Prints one line per event, for the parent to know what it killed:
 * "FLUSHED g" after the flush that ends round g returned, "CLEANED b" whenever the cleaner's
 * count of copied bytes (since this open) changes, "COLLECTED n" with how many of the volume's
 * segments the collection thread has seen deleted so far, "GC-FAILED reason" when a collection
 * fails.
 */
public final class CleanerCrashWriter {

  static final String VOLUME = "cleaned";
  static final int BLOCK = 4096;
  static final int BLOCKS = 2048;
  static final int CHUNK = 64 << 10;
  private static final int WRITES_PER_ROUND = 64;
  /** Most writes go to the first quarter: the rest stays cold, so the cleaner copies it over and over. */
  private static final int HOT_BLOCKS = BLOCKS / 4;

  private CleanerCrashWriter() {}

  /**
   * The settings of both the child (cleaning on) and the parent's checks (cleaning off): small
   * segments, frequent checkpoints, and a cleaner that is never waiting for quiet (idleAfter 0),
   * cleans whenever the store holds a tenth more than the data and 64 KiB could be freed, and
   * copies fast enough that a plan is under way at most moments of a run.
   */
  static VolumeOptions options(Path journal, boolean cleaning) {
    CleaningPolicy.Settings policy = new CleaningPolicy.Settings(1.1, 1.2, 0.02, 64 << 10, 64L << 20, 0.95,
        CleaningPolicy.Order.GREEDY);
    VolumeOptions.Cleaning settings = new VolumeOptions.Cleaning(cleaning, policy, Duration.ofMillis(100), 16L << 20,
        Duration.ZERO, Duration.ZERO, Duration.ZERO);
    return VolumeOptions.defaults(journal)
        .withJournal(16 << 20, 1 << 20)
        .withSegments(160 << 10, Duration.ofMillis(50), 3)
        .withCleaning(settings);
  }

  /** The blocks round g writes (a block may come twice: the same content again). */
  static int[] blocksOf(int round) {
    Random random = new Random(round * 0x9E3779B97F4A7C15L);
    int[] blocks = new int[WRITES_PER_ROUND];
    for (int i = 0; i < blocks.length; i++) {
      blocks[i] = random.nextInt(4) < 3 ? random.nextInt(HOT_BLOCKS) : HOT_BLOCKS + random.nextInt(BLOCKS - HOT_BLOCKS);
    }
    return blocks;
  }

  /**
   * Bursts of rounds with quiet moments between them. The uploader thread serves due uploads
   * before cleaning steps, so a writer that keeps the upload queue full gets no cleaning at all;
   * the quiet moments give the cleaner its turns, as on a real disk between bursts.
   */
  static long pauseAfter(int round) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return random.nextInt(4) == 0 ? 50 + random.nextInt(150) : random.nextInt(10);
  }

  static BitSet setOf(int round) {
    BitSet set = new BitSet(BLOCKS);
    for (int b : blocksOf(round)) {
      set.set(b);
    }
    return set;
  }

  /** A block of round g at index i: every long holds (g << 32 | i), so a torn or misplaced block shows. */
  static ByteBuffer stamp(int index, int round) {
    ByteBuffer b = ByteBuffer.allocate(BLOCK);
    long value = ((long) round << 32) | index;
    while (b.hasRemaining()) {
      b.putLong(value);
    }
    return b.flip();
  }

  public static void main(String[] args) throws Exception {
    // The cleaner logs every plan; the parent learns what it needs from stdout.
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
    Path storeDir = Path.of(args[0]);
    Path journal = Path.of(args[1]);
    int firstRound = Integer.parseInt(args[2]);
    ObjectStore store = FileObjectStore.open(storeDir);
    Volume volume = new VolumeManager(store, options(journal, true)).open(VOLUME);
    String segments = StoreLayout.segmentPrefix(volume.meta().id());
    daemon("cleaned-reporter", () -> reportCleaning(volume));
    daemon("collector", () -> collect(store, segments));
    for (int round = firstRound; ; round++) {
      for (int index : blocksOf(round)) {
        volume.write((long) index * BLOCK, stamp(index, round), false);
      }
      volume.flush();
      System.out.println("FLUSHED " + round);
      Thread.sleep(pauseAfter(round));
    }
  }

  private static void reportCleaning(Volume volume) {
    long reported = 0;
    while (true) {
      long cleaned = volume.stats().cleanedBytes();
      if (cleaned != reported) {
        System.out.println("CLEANED " + cleaned);
        reported = cleaned;
      }
      sleep(2);
    }
  }

  /** Collects with no grace, again and again, counting the volume's segments that disappear. */
  private static void collect(ObjectStore store, String segmentPrefix) {
    long collected = 0;
    while (true) {
      try {
        Set<String> before = keys(store, segmentPrefix);
        new GarbageCollector(store, Duration.ZERO).run();
        before.removeAll(keys(store, segmentPrefix));
        if (!before.isEmpty()) {
          collected += before.size();
          System.out.println("COLLECTED " + collected);
        }
      } catch (IOException | RuntimeException e) {
        System.out.println("GC-FAILED " + e.toString().replace('\n', ' '));
      }
      sleep(ThreadLocalRandom.current().nextInt(20));
    }
  }

  static Set<String> keys(ObjectStore store, String prefix) throws IOException {
    Set<String> keys = new HashSet<>();
    for (ObjectInfo info : store.list(prefix)) {
      keys.add(info.key());
    }
    return keys;
  }

  private static void daemon(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
