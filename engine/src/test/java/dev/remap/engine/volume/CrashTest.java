package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a writing process with SIGKILL at random moments, many times, and checks after each
 * kill that every write acknowledged before a completed flush is there and no block is torn.
 *
 * <p>Each of the {@value #KILLS} cycles kills two writers: one while it writes (right after a
 * flush, while that round is still in the journal, or later), then one while it opens the
 * volume: while it replays the journal the first left behind (0.2 to 7 MiB here) or, when the
 * kill comes late, while it uploads what it replayed. The checker then opens the volume itself,
 * with the writers' options ({@link CrashWriter#options}), and reads every block.
 */
class CrashTest {

  private static final int BLOCKS = 256;
  private static final int KILLS = 20;

  @TempDir Path tmp;

  /** What a killed child had printed: whether its open returned and the last round it flushed. */
  private record Killed(boolean opened, long openMillis, int flushed) {}

  @Test
  void flushedWritesSurviveSigkillWhileWritingAndWhileOpening() throws Exception {
    Path store = tmp.resolve("store");
    Path journal = tmp.resolve("journal");
    try (ObjectStore s = FileObjectStore.open(store)) {
      new VolumeManager(s, CrashWriter.options(journal)).create("crash", 4L << 20, 4096, 64 << 10);
    }
    Random random = new Random(42);
    int nextRound = 1;
    int lastFlushed = 0;
    // Rounds that ran to a completed flush; a killed run's last round is partial and never counts.
    BitSet flushedRounds = new BitSet();
    // How long an open that replays takes here, learnt from the open-kills: the measured time when
    // one came too late, a quarter more when one came inside (to reach its later parts too).
    long openMillis = 0;
    int killedOpening = 0;
    for (int kill = 0; kill < KILLS; kill++) {
      int round = nextRound;
      AtomicInteger flushedNow = new AtomicInteger();
      // Half the kills come right after a flush, while the flushed round is still in the journal.
      int pause = kill % 2 == 0 ? random.nextInt(5) : random.nextInt(400);
      Killed writer = runAndKill(store, journal, round, flushedNow, () -> flushedNow.get() >= round, pause);
      assertThat(writer.flushed()).as("the writer flushed round %d", round).isGreaterThanOrEqualTo(round);
      lastFlushed = Math.max(lastFlushed, writer.flushed());
      flushedRounds.set(round, lastFlushed + 1);
      if (openMillis == 0) {
        openMillis = 2 * writer.openMillis(); // a first guess: that open had nothing to replay
      }

      // The next writer replays what the killed one left in the journal; kill it inside that open.
      long pending = journalBytes(journal);
      int openerRound = lastFlushed + 1;
      AtomicInteger openerFlushed = new AtomicInteger();
      int openPause = random.nextInt((int) Math.max(1, openMillis));
      Killed opener = runAndKill(store, journal, openerRound, openerFlushed, () -> true, openPause);
      if (opener.opened()) {
        openMillis = Math.max(1, opener.openMillis());
      } else {
        openMillis = openMillis * 5 / 4 + 1;
        killedOpening += pending > 0 ? 1 : 0;
      }
      if (opener.flushed() >= openerRound) {
        lastFlushed = opener.flushed();
        flushedRounds.set(openerRound, lastFlushed + 1);
      }
      int maxRound = verify(store, journal, flushedRounds);
      nextRound = Math.max(maxRound, lastFlushed) + 1;
    }
    // Without this the test could pass while every open-kill came too late to hit an open.
    assertThat(killedOpening).as("kills inside an open that had journal records to replay")
        .isGreaterThanOrEqualTo(KILLS / 4);
  }

  /**
   * Starts a writer at firstRound and kills it with SIGKILL pauseMillis after it printed
   * "OPENING" and ready holds (waiting at most a minute); with ready always true the pause starts
   * as the open does.
   */
  private static Killed runAndKill(Path store, Path journal, int firstRound, AtomicInteger flushed,
      BooleanSupplier ready, int pauseMillis) throws Exception {
    Process child = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        CrashWriter.class.getName(), store.toString(), journal.toString(),
        Integer.toString(BLOCKS), Integer.toString(firstRound)))
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    AtomicBoolean opening = new AtomicBoolean();
    AtomicLong opened = new AtomicLong(-1);
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.equals("OPENING")) {
            opening.set(true);
          } else if (line.startsWith("OPENED ")) {
            opened.set(Long.parseLong(line.substring(7)));
          } else if (line.startsWith("FLUSHED ")) {
            flushed.set(Integer.parseInt(line.substring(8)));
          }
        }
      } catch (IOException ignored) {
        // The child was killed: its output simply ends.
      }
    });
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while ((!opening.get() || !ready.getAsBoolean()) && System.nanoTime() < deadline && child.isAlive()) {
      Thread.sleep(1);
    }
    Thread.sleep(pauseMillis);
    // A writer that stopped by itself failed (its stack trace is on stderr): that is no kill.
    assertThat(child.isAlive()).as("writer from round %d still running at the kill", firstRound).isTrue();
    // SIGKILL through the handle: Process.destroyForcibly also closes the pipes, and a line the
    // child printed just before the kill but the reader had not taken yet would be lost.
    child.toHandle().destroyForcibly();
    child.waitFor();
    // After the child died its last lines are read: "OPENED" seen now was printed before the kill.
    reader.join();
    return new Killed(opened.get() >= 0, opened.get(), flushed.get());
  }

  /** Bytes in the volume's journal files: what an open reads and replays (records not in a segment). */
  private static long journalBytes(Path journal) throws IOException {
    try (Stream<Path> files = Files.walk(journal)) {
      return files.filter(p -> p.toString().endsWith(".wal")).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  /**
   * Every block is whole and holds its last flushed write or a later one; returns the newest
   * round seen.
   */
  private static int verify(Path store, Path journal, BitSet flushedRounds) throws Exception {
    int max = 0;
    List<String> problems = new ArrayList<>();
    try (ObjectStore s = FileObjectStore.open(store);
        Volume volume = new VolumeManager(s, CrashWriter.options(journal)).open("crash")) {
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
