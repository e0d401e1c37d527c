package dev.remap.engine.volume;

import static dev.remap.engine.volume.CleanerCrashWriter.BLOCK;
import static dev.remap.engine.volume.CleanerCrashWriter.stamp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.testkit.PowerCutMount;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two ways {@link PowerCutTest} found for a power cut to lose flushed writes, each made to
 * happen every time (there they show about one run in five). Both come from the uploader acting on
 * journal records that no flush has made durable yet, so that after a cut the store is ahead of
 * the journal:
 *
 * <ul>
 *   <li>It leaves out of a segment a flushed write that a later, unflushed one replaced, while the
 *       segment's journal range covers it: after the cut the later write is gone, replay skips the
 *       flushed one as uploaded, and the block goes back to what it held before.
 *   <li>It uploads records the cut then takes from the journal: reopening, the journal numbers the
 *       next record after the store's and appends it to the file the cut left, which now jumps over
 *       the lost numbers; the next replay (after any crash, SIGKILL included) takes the jump for a
 *       torn tail and cuts off everything after it.
 * </ul>
 *
 * <p>Each child phase runs in its own JVM (a volume is open in one process at a time) and waits to
 * be killed; the store and the journal live on the powercut filesystem (ext4's ordering).
 */
class JournalPowerCutTest {

  static final String VOLUME = "journaled";
  private static final int BLOCKS = 128;

  @TempDir Path tmp;

  private Path backing;
  private Path mounted;
  private PowerCutMount mount;

  @BeforeEach
  void create() throws Exception {
    backing = Files.createDirectories(tmp.resolve("backing"));
    mounted = Files.createDirectories(tmp.resolve("mnt"));
    mount = PowerCutMount.mount(backing, mounted, PowerCutMount.Model.ORDERED);
    try (ObjectStore s = FileObjectStore.open(store())) {
      new VolumeManager(s, options(journal(), Duration.ofHours(1))).create(VOLUME, (long) BLOCKS * BLOCK, BLOCK, 64 << 10);
    }
  }

  @AfterEach
  void unmount() {
    if (mount != null) {
      mount.close();
    }
  }

  @Test
  void aFlushedWriteSurvivesACutAfterAnUnflushedOneHidItFromAnUpload() throws Exception {
    Process writer = start("hide-flushed-write");
    awaitLine(writer, "READY");
    mount.cut();
    writer.destroyForcibly().waitFor();
    remount();

    assertThat(rounds(0, 1).get(0)).as("block 0, written in round 1 and flushed, then in round 2 without a flush")
        .isIn(1, 2);
  }

  @Test
  void writesFlushedAfterReopeningSurviveTheNextCrash() throws Exception {
    Process first = start("upload-unflushed");
    awaitLine(first, "READY");
    mount.cut();
    first.destroyForcibly().waitFor();
    remount();
    // Back up: a round written and flushed after the reopen, then an ordinary crash.
    Process second = start("flush-after-reopen");
    awaitLine(second, "FLUSHED");
    second.destroyForcibly().waitFor();

    assertThat(rounds(0, 16)).as("blocks flushed before the cut").containsOnly(1);
    assertThat(rounds(32, 48)).as("blocks flushed after reopening").containsOnly(3);
  }

  /** The round each block in [from, to) holds, opening the volume in this process (cleaning off). */
  private List<Integer> rounds(int from, int to) throws Exception {
    List<Integer> rounds = new ArrayList<>();
    try (ObjectStore s = FileObjectStore.open(store())) {
      VolumeManager volumes = new VolumeManager(s, options(journal(), Duration.ofMillis(10)));
      try (Volume volume = volumes.open(VOLUME)) {
        for (int i = from; i < to; i++) {
          ByteBuffer block = ByteBuffer.allocate(BLOCK);
          volume.read((long) i * BLOCK, block);
          long first = block.getLong(0);
          int round = first == 0 ? 0 : (int) (first >>> 32);
          assertThat(block.flip()).as("block %d, whole", i)
              .isEqualTo(round == 0 ? ByteBuffer.allocate(BLOCK) : stamp(i, round));
          rounds.add(round);
        }
      } finally {
        volumes.stopCollecting();
      }
    }
    return rounds;
  }

  /** Segments of 40 blocks, no cleaning, uploads after delay (or as soon as 40 blocks wait). */
  static VolumeOptions options(Path journal, Duration uploadDelay) {
    return VolumeOptions.defaults(journal)
        .withJournal(16 << 20, 1 << 20)
        .withSegments(40 * BLOCK, uploadDelay, 3)
        .withCleaning(VolumeOptions.Cleaning.defaults().off());
  }

  private Path store() {
    return mounted.resolve("store");
  }

  private Path journal() {
    return mounted.resolve("journal");
  }

  private void remount() {
    mount.close();
    mount = PowerCutMount.mount(backing, mounted, PowerCutMount.Model.ORDERED);
  }

  private Process start(String phase) throws Exception {
    return new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), JournalPowerCutWriter.class.getName(),
        store().toString(), journal().toString(), phase))
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
  }

  private static void awaitLine(Process process, String expected) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (String line; System.nanoTime() < deadline && (line = in.readLine()) != null; ) {
      if (line.equals(expected)) {
        return;
      }
    }
    throw new AssertionError("the writer did not print " + expected);
  }
}
