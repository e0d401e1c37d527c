package dev.remap.engine.volume;

import static dev.remap.engine.volume.CleanerCrashWriter.BLOCK;
import static dev.remap.engine.volume.CleanerCrashWriter.BLOCKS;
import static dev.remap.engine.volume.CleanerCrashWriter.VOLUME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a writing process whose cleaner and garbage collector run all the time with SIGKILL,
 * many times, and checks after each kill that every block holds its last flushed write or a
 * later one, whole; then that a collection run afterwards deletes nothing the volume still reads.
 * The kills come right after a flush, right after a cleaning step, or at any moment; a run in
 * which the cleaner never copied anything or the collector never deleted a segment fails, since
 * it would have proved nothing about cleaning.
 */
class CleanerCrashTest {

  private static final int KILLS = 36;

  /** Which blocks each round writes, computed once per round (shared with {@link PowerCutTest}). */
  private static final Map<Integer, BitSet> ROUND_SETS = new ConcurrentHashMap<>();

  @TempDir Path tmp;

  @Test
  void flushedWritesSurviveSigkillWhileCleaningAndCollecting() throws Exception {
    Path store = tmp.resolve("store");
    Path journal = tmp.resolve("journal");
    String segments;
    try (ObjectStore s = FileObjectStore.open(store)) {
      VolumeMeta meta = new VolumeManager(s, CleanerCrashWriter.options(journal, false))
          .create(VOLUME, (long) BLOCKS * BLOCK, BLOCK, CleanerCrashWriter.CHUNK);
      segments = StoreLayout.segmentPrefix(meta.id());
    }
    String classPath = privateClassPath(tmp);
    Random random = new Random(7);
    // floor[i]: the newest flushed round that wrote block i (0: none); newestStarted bounds what may show.
    int[] floor = new int[BLOCKS];
    int newestStarted = 0;
    int nextRound = 1;
    long cleaned = 0;
    long collectedByChild = 0;
    long collectedAfterward = 0;
    int killsNearCleaning = 0;
    List<String> gcFailures = new ArrayList<>();
    for (int kill = 0; kill < KILLS; kill++) {
      Child child = new Child(classPath, store, journal, nextRound);
      try {
        child.awaitFlushed(nextRound);
        switch (kill % 3) {
          // Right after a flush, while the flushed round is still in the journal.
          case 0 -> {
            Thread.sleep(random.nextInt(800));
            child.awaitFlushed(child.flushed.get() + 1);
            Thread.sleep(random.nextInt(5));
          }
          // In the middle of a plan: between steps, before or during its checkpoint, its collection.
          case 1 -> {
            child.awaitCleaningStep(Duration.ofSeconds(5));
            Thread.sleep(random.nextInt(40));
          }
          default -> Thread.sleep(random.nextInt(1500));
        }
        if (child.nanosSinceCleaning() < TimeUnit.MILLISECONDS.toNanos(50)) {
          killsNearCleaning++;
        }
      } finally {
        child.kill();
      }
      cleaned += child.cleaned.get();
      collectedByChild += child.collected.get();
      gcFailures.addAll(child.gcFailures);
      int flushed = child.flushed.get();
      for (int round = nextRound; round <= flushed; round++) {
        for (int b : CleanerCrashWriter.blocksOf(round)) {
          floor[b] = round;
        }
      }
      newestStarted = Math.max(newestStarted, flushed + 1);

      int[] seen = verify(store, journal, floor, newestStarted, "after kill " + kill);
      collectedAfterward += collect(store, segments);
      int[] again = verify(store, journal, floor, newestStarted, "after kill " + kill + " and a collection");
      assertThat(again).as("the volume after a collection (kill %d)", kill).isEqualTo(seen);
      nextRound = Math.max(flushed, max(seen)) + 1;
      System.out.printf("CleanerCrashTest kill %d: flushed round %d, %d bytes cleaned, %d segments collected%n", kill,
          flushed, child.cleaned.get(), child.collected.get());
    }
    System.out.printf("CleanerCrashTest: %d kills (%d within 50 ms of a cleaning step), %d rounds, %d bytes cleaned, "
        + "%d segments collected by the child, %d afterwards, %d collection failures%n", KILLS, killsNearCleaning,
        nextRound - 1, cleaned, collectedByChild, collectedAfterward, gcFailures.size());
    assertThat(cleaned).as("bytes the cleaner copied over all runs").isPositive();
    assertThat(collectedByChild).as("segments the child's collections deleted while it was killed").isPositive();
    assertThat(killsNearCleaning).as("kills within 50 ms of a cleaning step").isGreaterThanOrEqualTo(KILLS / 6);
    assertThat(gcFailures).as("collections that failed in the child").isEmpty();
  }

  /**
   * Opens the volume (cleaning off), checks every block, closes it; returns each block's round.
   * A block must be whole, hold its own index, and a round that wrote it no older than its last
   * flushed write (an unflushed later round is fine: the kill may come after the journal write).
   */
  static int[] verify(Path store, Path journal, int[] floor, int newestStarted, String when) throws Exception {
    int[] rounds = new int[BLOCKS];
    List<String> problems = new ArrayList<>();
    try (ObjectStore s = FileObjectStore.open(store)) {
      VolumeManager volumes = new VolumeManager(s, CleanerCrashWriter.options(journal, false));
      try (Volume volume = volumes.open(VOLUME)) {
        ByteBuffer all = ByteBuffer.allocate(BLOCKS * BLOCK);
        volume.read(0, all);
        for (int i = 0; i < BLOCKS; i++) {
          long first = all.getLong(i * BLOCK);
          for (int at = 8; at < BLOCK; at += 8) {
            if (all.getLong(i * BLOCK + at) != first) {
              problems.add("block " + i + " is torn at byte " + at);
              break;
            }
          }
          int round = (int) (first >>> 32);
          int index = (int) first;
          rounds[i] = round;
          boolean valid = first == 0
              ? floor[i] == 0
              : index == i && round >= floor[i] && round <= newestStarted && roundSet(round).get(i);
          if (!valid) {
            problems.add("block " + i + " holds index " + index + " of round " + round
                + ", but its last flushed write was round " + floor[i]);
          }
        }
      } finally {
        volumes.stopCollecting();
      }
    }
    assertThat(problems).as("blocks %s", when).isEmpty();
    return rounds;
  }

  /**
   * The test's class path with its folders copied: the children start over and over for a
   * minute, and a rebuild meanwhile (an IDE, another build in the same tree) must not take the
   * compiled classes from under one of them.
   */
  static String privateClassPath(Path tmp) throws IOException {
    List<String> entries = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      if (!Files.isDirectory(path)) {
        entries.add(entry);
        continue;
      }
      Path copy = Files.createDirectories(tmp.resolve("classpath"))
          .resolve(Integer.toString(entries.size()));
      try (Stream<Path> files = Files.walk(path)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          Files.copy(file, copy.resolve(path.relativize(file).toString()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      entries.add(copy.toString());
    }
    return String.join(File.pathSeparator, entries);
  }

  /** A collection with no grace; returns how many of the volume's segments it deleted. */
  static int collect(Path store, String prefix) throws Exception {
    try (ObjectStore s = FileObjectStore.open(store)) {
      Set<String> before = CleanerCrashWriter.keys(s, prefix);
      new GarbageCollector(s, Duration.ZERO).run();
      before.removeAll(CleanerCrashWriter.keys(s, prefix));
      return before.size();
    }
  }

  private static BitSet roundSet(int round) {
    return ROUND_SETS.computeIfAbsent(round, CleanerCrashWriter::setOf);
  }

  static int max(int[] values) {
    int max = 0;
    for (int v : values) {
      max = Math.max(max, v);
    }
    return max;
  }

  /** A running {@link CleanerCrashWriter} and what it said so far. */
  static final class Child {
    final Process process;
    final Thread reader;
    final AtomicInteger flushed = new AtomicInteger();
    final AtomicLong cleaned = new AtomicLong();
    final AtomicLong cleanedAt = new AtomicLong();
    final AtomicLong collected = new AtomicLong();
    final List<String> gcFailures = new CopyOnWriteArrayList<>();

    Child(String classPath, Path store, Path journal, int firstRound) throws Exception {
      process = new ProcessBuilder(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", classPath, CleanerCrashWriter.class.getName(), store.toString(), journal.toString(), Integer.toString(firstRound)))
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      reader = new Thread(this::read, "cleaner-crash-child-output");
      reader.start();
    }

    private void read() {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          int space = line.indexOf(' ');
          String value = line.substring(space + 1);
          switch (line.substring(0, Math.max(space, 0))) {
            case "FLUSHED" -> flushed.set(Integer.parseInt(value));
            case "CLEANED" -> {
              cleaned.set(Long.parseLong(value));
              cleanedAt.set(System.nanoTime());
            }
            case "COLLECTED" -> collected.set(Long.parseLong(value));
            case "GC-FAILED" -> gcFailures.add(value);
            default -> System.out.println("child: " + line);
          }
        }
      } catch (Exception ignored) {
        // The child was killed: its output simply ends.
      }
    }

    void awaitFlushed(int round) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (flushed.get() < round && System.nanoTime() < deadline && process.isAlive()) {
        Thread.sleep(2);
      }
      assertThat(flushed.get()).as("the writer flushed round %d", round).isGreaterThanOrEqualTo(round);
    }

    /** Waits for the next cleaning step to complete, or timeout (the cleaner may have nothing to do). */
    void awaitCleaningStep(Duration timeout) throws InterruptedException {
      long seen = cleanedAt.get();
      long deadline = System.nanoTime() + timeout.toNanos();
      while (cleanedAt.get() == seen && System.nanoTime() < deadline && process.isAlive()) {
        Thread.sleep(1);
      }
    }

    long nanosSinceCleaning() {
      long at = cleanedAt.get();
      return at == 0 ? Long.MAX_VALUE : System.nanoTime() - at;
    }

    void kill() throws InterruptedException {
      // SIGKILL through the handle: Process.destroyForcibly also closes the pipes, so a "FLUSHED"
      // the child printed just before the kill could be lost (the reader then stopped on "Stream
      // closed") and the test would think a flushed round was never started.
      process.toHandle().destroyForcibly();
      process.waitFor();
      reader.join();
    }
  }
}
