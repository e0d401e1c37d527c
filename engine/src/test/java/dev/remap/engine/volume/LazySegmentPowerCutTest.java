package dev.remap.engine.volume;

import static dev.remap.engine.volume.LazySegmentPowerCutWriter.BLOCK;
import static dev.remap.engine.volume.LazySegmentPowerCutWriter.BLOCKS;
import static dev.remap.engine.volume.LazySegmentPowerCutWriter.VOLUME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.journal.JournalRecord;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.testkit.PowerCutMount;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segments are written without fsync and synced only by barriers; this cuts the power (the
 * powercut FUSE filesystem under both the store and the journal, {@link PowerCutMount}) under a
 * process writing 4 KiB and larger writes with FLUSHes and FUAs at random points, many times, at
 * random moments: right after a flush, right after a barrier moved the durable marker (uploads and
 * the next barrier under way), or anywhere. After each cut it checks, before the volume is opened,
 * which segments the cut tore, and then that every write acknowledged by a completed FLUSH or with
 * FUA reads back (that version or a later one), that no 4 KiB block is a mix of two writes, that
 * every segment left in the store is whole, and (by the next writer) that the volume goes on
 * serving and writing. The writer runs with the file store's early writeback under the POSIX
 * model (as served) and without it under ext4's (so that cuts tear segments for the recovery).
 */
class LazySegmentPowerCutTest {

  private static final int CUTS = 20;
  private static final byte[] SYNCED = "synced before the cut".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] UNSYNCED = "written after, never synced".getBytes(StandardCharsets.US_ASCII);

  @TempDir Path tmp;

  private PowerCutMount mount;

  @AfterEach
  void unmount() {
    if (mount != null) {
      mount.close();
    }
  }

  @ParameterizedTest
  @EnumSource(PowerCutMount.Model.class)
  void acknowledgedWritesSurvivePowerCutsWhileSegmentsAreSyncedLazily(PowerCutMount.Model model) throws Exception {
    Path backing = Files.createDirectories(tmp.resolve("backing"));
    Path mounted = Files.createDirectories(tmp.resolve("mnt"));
    mount = PowerCutMount.mount(backing, mounted, model);
    Path store = mounted.resolve("store");
    Path journal = mounted.resolve("journal");
    Path canary = mounted.resolve("canary");
    String id;
    try (ObjectStore s = FileObjectStore.open(store)) {
      id = new VolumeManager(s, LazySegmentPowerCutWriter.options(journal))
          .create(VOLUME, (long) BLOCKS * BLOCK, BLOCK, 64 << 10).id();
    }
    PowerCutTest.writeDurably(canary, SYNCED);
    String classPath = CleanerCrashTest.privateClassPath(tmp);
    Random random = new Random(17);
    int[] floor = new int[BLOCKS];
    int newestStarted = 0;
    int nextRound = 1;
    int torn = 0;
    int unsynced = 0;
    int linking = 0;
    for (int cut = 0; cut < CUTS; cut++) {
      // Under ext4's ordering the writer runs without the store's early writeback, which would
      // leave few segments to tear: this run is the one that must find torn segments to recover.
      Child child = new Child(classPath, store, journal, nextRound, model == PowerCutMount.Model.STRICT);
      try {
        child.awaitFlushed(nextRound);
        switch (cut % 3) {
          case 0 -> {
            child.awaitFlushed(child.flushed.get() + 1 + random.nextInt(3));
            Thread.sleep(random.nextInt(3));
          }
          case 1 -> {
            awaitMarkerChange(store.resolve(StoreLayout.synced(id)));
            Thread.sleep(random.nextInt(15));
          }
          default -> Thread.sleep(random.nextInt(1500));
        }
        PowerCutTest.overwriteWithoutSync(canary, UNSYNCED);
        mount.cut();
      } finally {
        child.kill(); // everything it does from the cut on fails with EIO
      }
      int flushed = child.flushed.get();
      for (int round = nextRound; round <= flushed; round++) {
        for (LazySegmentPowerCutWriter.Write w : LazySegmentPowerCutWriter.writesOf(round)) {
          Arrays.fill(floor, w.first(), w.first() + w.count(), round);
        }
      }
      child.fuas.forEach((round, writes) -> {
        if (round > flushed) {
          List<LazySegmentPowerCutWriter.Write> all = LazySegmentPowerCutWriter.writesOf(round);
          for (int i : writes) {
            LazySegmentPowerCutWriter.Write w = all.get(i);
            for (int b = w.first(); b < w.first() + w.count(); b++) {
              floor[b] = Math.max(floor[b], round);
            }
          }
        }
      });
      newestStarted = Math.max(newestStarted, Math.max(flushed + 1, child.newestFua()));
      String log = mount.log();
      mount.close();
      mount = PowerCutMount.mount(backing, mounted, model);

      assertThat(Files.readAllBytes(canary)).as("a file overwritten without fsync before cut %d (%s)", cut, log)
          .isEqualTo(SYNCED);
      int[] found = unsyncedSegments(store, id);
      unsynced += found[0];
      torn += found[1];
      int[] seen = verify(store, journal, floor, newestStarted, "after cut " + cut);
      linking = Math.max(linking, assertWhole(store, id, "after cut " + cut));
      System.out.printf("LazySegmentPowerCutTest %s cut %d: flushed round %d, %d segments after the marker, %d torn%n",
          model, cut, flushed, found[0], found[1]);
      nextRound = Math.max(newestStarted, Arrays.stream(seen).max().orElse(0)) + 1;
    }
    System.out.printf("LazySegmentPowerCutTest %s: %d cuts, %d rounds, %d unsynced segments found, %d torn%n", model,
        CUTS, nextRound - 1, unsynced, torn);
    // Writes of 64 KiB and more are linked from the journal's files: the cuts must have met them.
    assertThat(linking).as("segments linking to adopted journal files, most seen after a cut").isPositive();
    if (model == PowerCutMount.Model.ORDERED) {
      // ext4's ordering commits a lazily written segment's name with the next journal fsync, not
      // its data: torn segments are what the recovery has to drop, and it must have had some.
      assertThat(torn).as("torn segments found after the cuts").isPositive();
    }
  }

  /** Waits (up to 5 s) until the volume's durable marker changes: a barrier just completed. */
  private static void awaitMarkerChange(Path marker) throws Exception {
    byte[] before = readOrEmpty(marker);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (Arrays.equals(readOrEmpty(marker), before) && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
  }

  private static byte[] readOrEmpty(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      return new byte[0];
    }
  }

  /** How many segments a cut left after the durable marker, and how many of those are torn. */
  private static int[] unsyncedSegments(Path store, String id) throws IOException {
    int after = 0;
    int torn = 0;
    try (ObjectStore s = FileObjectStore.open(store)) {
      long marker;
      try {
        marker = SegmentWriter.decodeMarker(s.get(StoreLayout.synced(id)), "marker");
      } catch (NoSuchObjectException e) {
        marker = 0;
      }
      for (ObjectInfo info : s.list(StoreLayout.segmentPrefix(id))) {
        if (StoreLayout.isSegment(info.key()) && StoreLayout.seqOf(info.key()) > marker) {
          after++;
          try {
            SegmentFormat.verify(ByteBuffer.wrap(s.get(info.key())), info.key());
          } catch (SegmentFormat.DamagedSegmentException e) {
            torn++;
          }
        }
      }
    }
    return new int[] {after, torn};
  }

  /**
   * Every segment in the store verifies, and every journal record a segment links to is whole:
   * what a cut tore was dropped at the open. Returns how many segments link to adopted journal
   * files (the writes of 64 KiB and more are linked, not copied).
   */
  private static int assertWhole(Path store, String id, String when) throws IOException {
    int linking = 0;
    try (ObjectStore s = FileObjectStore.open(store)) {
      for (ObjectInfo info : s.list(StoreLayout.segmentPrefix(id))) {
        if (!StoreLayout.isSegment(info.key())) {
          continue;
        }
        SegmentFormat.Header header = SegmentFormat.verify(ByteBuffer.wrap(s.get(info.key())), info.key() + " " + when);
        linking += header.objects().isEmpty() ? 0 : 1;
        for (SegmentFormat.Entry e : header.entries()) {
          if (e.kind() == SegmentFormat.Kind.LINKED) {
            ByteBuffer record = ByteBuffer.allocate(Math.toIntExact(JournalRecord.HEADER + e.length()));
            s.read(header.objectOf(e), e.dataOffset() - JournalRecord.HEADER, record);
            assertThat(JournalRecord.isWholeWrite(record.flip(), e.volumeOffset(), e.length(), e.crc()))
                .as("the write %s links to at %d of %s, %s", info.key(), e.dataOffset(), header.objectOf(e), when)
                .isTrue();
          }
        }
      }
    }
    return linking;
  }

  /**
   * Opens the volume, checks every block and closes it; returns each block's round. A block must
   * be whole, hold its own index, and come from a round that wrote it, no older than its newest
   * acknowledged durable write and no newer than the newest round started.
   */
  private static int[] verify(Path store, Path journal, int[] floor, int newestStarted, String when) throws Exception {
    int[] rounds = new int[BLOCKS];
    List<String> problems = new ArrayList<>();
    try (ObjectStore s = FileObjectStore.open(store)) {
      VolumeManager volumes = new VolumeManager(s, LazySegmentPowerCutWriter.options(journal));
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
          rounds[i] = round;
          boolean valid = first == 0
              ? floor[i] == 0
              : (int) first == i && round >= floor[i] && round <= newestStarted && wrote(round, i);
          if (!valid) {
            problems.add("block " + i + " holds index " + (int) first + " of round " + round
                + ", but its newest durable write was round " + floor[i]);
          }
        }
      } finally {
        volumes.stopCollecting();
      }
    }
    assertThat(problems).as("blocks %s", when).isEmpty();
    return rounds;
  }

  private static final Map<Integer, List<LazySegmentPowerCutWriter.Write>> WRITES = new ConcurrentHashMap<>();

  private static boolean wrote(int round, int block) {
    for (LazySegmentPowerCutWriter.Write w : WRITES.computeIfAbsent(round, LazySegmentPowerCutWriter::writesOf)) {
      if (block >= w.first() && block < w.first() + w.count()) {
        return true;
      }
    }
    return false;
  }

  /** A running {@link LazySegmentPowerCutWriter} and what it said so far. */
  private static final class Child {
    final Process process;
    final Thread reader;
    final AtomicInteger flushed = new AtomicInteger();
    /** Per round, the writes sent with FUA that returned. */
    final Map<Integer, List<Integer>> fuas = new ConcurrentHashMap<>();

    Child(String classPath, Path store, Path journal, int firstRound, boolean earlyWriteback) throws IOException {
      process = new ProcessBuilder(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classPath,
          LazySegmentPowerCutWriter.class.getName(), store.toString(), journal.toString(), Integer.toString(firstRound),
          Boolean.toString(earlyWriteback)))
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      reader = new Thread(this::read, "lazy-power-cut-child-output");
      reader.start();
    }

    private void read() {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          String[] words = line.split(" ");
          switch (words[0]) {
            case "FLUSHED" -> flushed.set(Integer.parseInt(words[1]));
            case "FUA" -> fuas.computeIfAbsent(Integer.parseInt(words[1]), r -> new CopyOnWriteArrayList<>())
                .add(Integer.parseInt(words[2]));
            default -> System.out.println("child: " + line);
          }
        }
      } catch (IOException | RuntimeException ignored) {
        // The child was killed: its output simply ends.
      }
    }

    int newestFua() {
      return fuas.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    void awaitFlushed(int round) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (flushed.get() < round && System.nanoTime() < deadline && process.isAlive()) {
        Thread.sleep(2);
      }
      assertThat(flushed.get()).as("the writer flushed round %d", round).isGreaterThanOrEqualTo(round);
    }

    void kill() throws InterruptedException {
      // SIGKILL through the handle: Process.destroyForcibly also closes this end of the child's
      // stdout, dropping the lines the reader has not got to yet (under CPU load, several
      // FLUSHED), so that rounds the child flushed would count as never started.
      process.toHandle().destroyForcibly();
      process.waitFor();
      reader.join(); // to the end of what the child printed before it died
    }
  }
}
