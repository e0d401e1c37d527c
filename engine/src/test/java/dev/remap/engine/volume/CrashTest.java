package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a writing process with SIGKILL at random moments, many times, and checks after each
 * kill that every write acknowledged before a completed flush is there and no block is torn.
 */
class CrashTest {

  private static final int BLOCKS = 256;
  private static final int KILLS = 20;

  @TempDir Path tmp;

  @Test
  void flushedWritesSurviveSigkillAtRandomMoments() throws Exception {
    Path store = tmp.resolve("store");
    Path journal = tmp.resolve("journal");
    try (ObjectStore s = FileObjectStore.open(store)) {
      new VolumeManager(s, VolumeOptions.defaults(journal)).create("crash", 4L << 20, 4096, 64 << 10);
    }
    Random random = new Random(42);
    int nextRound = 1;
    int lastFlushed = 0;
    // Rounds that ran to a completed flush; a killed run's last round is partial and never counts.
    java.util.BitSet flushedRounds = new java.util.BitSet();
    for (int kill = 0; kill < KILLS; kill++) {
      Process child = new ProcessBuilder(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"),
          CrashWriter.class.getName(), store.toString(), journal.toString(),
          Integer.toString(BLOCKS), Integer.toString(nextRound)))
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      AtomicInteger flushed = new AtomicInteger(lastFlushed);
      Thread reader = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith("FLUSHED ")) {
              flushed.set(Integer.parseInt(line.substring(8)));
            }
          }
        } catch (Exception ignored) {
          // The child was killed: its output simply ends.
        }
      });
      reader.start();
      // Wait for at least one flush of this run, then kill at a random moment after it.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (flushed.get() < nextRound && System.nanoTime() < deadline && child.isAlive()) {
        Thread.sleep(5);
      }
      assertThat(flushed.get()).as("the writer flushed round %d", nextRound).isGreaterThanOrEqualTo(nextRound);
      // Half the kills come right after a flush, while the flushed round is still in the journal.
      Thread.sleep(kill % 2 == 0 ? random.nextInt(5) : random.nextInt(400));
      child.destroyForcibly().waitFor();
      reader.join();
      lastFlushed = flushed.get();
      flushedRounds.set(nextRound, lastFlushed + 1);
      int maxRound = verify(store, journal, flushedRounds);
      nextRound = maxRound + 1;
    }
  }

  /**
   * Every block is whole and holds its last flushed write or a later one; returns the newest
   * round seen.
   */
  private static int verify(Path store, Path journal, java.util.BitSet flushedRounds) throws Exception {
    int max = 0;
    List<String> problems = new ArrayList<>();
    try (ObjectStore s = FileObjectStore.open(store);
        Volume volume = new VolumeManager(s, VolumeOptions.defaults(journal)).open("crash")) {
      for (int i = 0; i < BLOCKS; i++) {
        ByteBuffer block = ByteBuffer.allocate(CrashWriter.BLOCK);
        volume.read((long) i * CrashWriter.BLOCK, block);
        block.flip();
        long first = block.getLong(0);
        int round = (int) (first >>> 32);
        int index = (int) first;
        for (int at = 0; at < CrashWriter.BLOCK; at += 8) {
          if (block.getLong(at) != first) {
            problems.add("block " + i + " is torn at byte " + at);
            break;
          }
        }
        int floor = 0;
        for (int r = flushedRounds.length() - 1; r > 0; r--) {
          if (flushedRounds.get(r) && CrashWriter.writes(r, i)) {
            floor = r;
            break;
          }
        }
        boolean written = round == 0 ? first == 0 : index == i && CrashWriter.writes(round, i);
        if (!written || round < floor) {
          problems.add("block " + i + " holds index " + index + " round " + round
              + " but its last flushed write was round " + floor);
        }
        max = Math.max(max, round);
      }
    }
    assertThat(problems).isEmpty();
    return max;
  }
}
