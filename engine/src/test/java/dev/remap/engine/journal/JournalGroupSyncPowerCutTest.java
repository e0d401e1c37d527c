package dev.remap.engine.journal;

import static dev.remap.engine.journal.JournalSparesPowerCutTest.payload;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.journal.Journal.Appended;
import dev.remap.engine.journal.JournalRecord.Type;
import dev.remap.testkit.PowerCutMount;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Syncs from several threads at once, under simulated power cuts: what a volume's transfer
 * workers do when a client sends a FLUSH every few writes. A sync that waited behind another
 * returns without forcing anything when the one that ran meanwhile covered it (group commit), so
 * this checks that such a sync never returns before every record appended before it was called is
 * on disk. Writers append records of random sizes over small files (rolls, so folder syncs too)
 * and sync at random; the power goes after a random number of appends while they go on. The
 * journal reopened on a fresh mount must replay, in order and with no gap, every record up to the
 * newest one whose append had returned before a completed sync was called, each with its own
 * payload.
 */
class JournalGroupSyncPowerCutTest {

  private static final int CUTS = 6;
  private static final int WRITERS = 4;
  private static final long CAPACITY = 64 << 20;
  private static final long FILE = 128 << 10;

  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(PowerCutMount.Model.class)
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void everyRecordAppendedBeforeACompletedSyncSurvivesACut(PowerCutMount.Model model) throws Exception {
    Path backing = Files.createDirectories(tmp.resolve("backing"));
    Path mounted = Files.createDirectories(tmp.resolve("mnt"));
    Random random = new Random(model.ordinal() * 104729L + 3);
    for (int cut = 0; cut < CUTS; cut++) {
      Round round = new Round(200 + random.nextInt(2000));
      try (PowerCutMount mount = PowerCutMount.mount(backing, mounted, model)) {
        Path dir = Files.createDirectories(mounted.resolve("journal-" + cut));
        JournalFile.forceFolder(mounted);
        Journal journal = Journal.open(dir, CAPACITY, FILE, 0, a -> { });
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
          long seed = random.nextLong();
          Thread writer = new Thread(() -> round.write(journal, new Random(seed)), "writer-" + w);
          writer.start();
          writers.add(writer);
        }
        round.ready.await();
        mount.cut();
        round.cut.set(true);
        for (Thread writer : writers) {
          writer.join();
        }
        try {
          journal.close();
        } catch (IOException | RuntimeException afterTheCut) {
          // the mount answers EIO now
        }
      }
      try (PowerCutMount mount = PowerCutMount.mount(backing, mounted, model)) {
        List<Appended> replayed = new ArrayList<>();
        try (Journal journal = Journal.open(mounted.resolve("journal-" + cut), CAPACITY, FILE, 0, replayed::add)) {
          long expected = 1;
          for (Appended a : replayed) {
            assertThat(a.record().seq()).as("cut %d: replayed in order, no gap", cut).isEqualTo(expected);
            ByteBuffer back = ByteBuffer.allocate(a.record().payloadSize());
            journal.read(a.payload(), back);
            assertThat(back.flip()).as("cut %d: record %d's payload", cut, expected)
                .isEqualTo(payload(expected, a.record().payloadSize()));
            expected++;
          }
          assertThat(expected - 1).as("cut %d: every record appended before a completed sync", cut)
              .isGreaterThanOrEqualTo(round.durable.get());
          assertThat(round.durable.get()).as("cut %d: some sync completed before the cut", cut).isPositive();
        }
      }
    }
  }

  /** The writers' life between two cuts. */
  private static final class Round {
    final AtomicBoolean cut = new AtomicBoolean();
    final CountDownLatch ready = new CountDownLatch(1);
    final int cutAfter;
    final AtomicInteger appends = new AtomicInteger();
    /** The newest record whose append has returned. */
    final AtomicLong returned = new AtomicLong();
    /** The newest record a completed sync covered: its append returned before the sync was called. */
    final AtomicLong durable = new AtomicLong();

    Round(int cutAfter) {
      this.cutAfter = cutAfter;
    }

    void write(Journal journal, Random random) {
      try {
        while (!cut.get()) {
          if (appends.incrementAndGet() == cutAfter) {
            ready.countDown();
          }
          int length = 512 * (1 + random.nextInt(8));
          Appended a = appendOne(journal, length);
          returned.accumulateAndGet(a.record().seq(), Math::max);
          if (random.nextInt(4) == 0) {
            long covered = returned.get();
            journal.sync();
            durable.accumulateAndGet(covered, Math::max);
          }
        }
      } catch (IOException | RuntimeException e) {
        // The cut: every call fails with EIO from here on.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        ready.countDown(); // a writer that failed early still lets the power go
      }
    }

    /** Appends a record whose payload is made from its own number (known only under the journal's lock). */
    private static Appended appendOne(Journal journal, int length) throws IOException, InterruptedException {
      synchronized (journal) {
        long seq = journal.lastSeq() + 1;
        Appended a = journal.append(Type.WRITE, 0, length, payload(seq, length));
        assertThat(a.record().seq()).isEqualTo(seq);
        return a;
      }
    }
  }
}
