package dev.remap.engine.journal;

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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The journal writing over its spares, under simulated power cuts (the powercut filesystem drops
 * what was not fsynced, names whose folder was not fsynced included): a writer appends records of
 * random sizes over many small files, syncs and retires at random (the retired point plays the
 * store), and the power goes after a random number of appends while the writer goes on, so
 * mid-call as often as not. After each cut a fresh
 * mount is what the machine finds, and the journal reopened there must replay every record a
 * completed sync covered after the retired point, each with its own payload, in order and with no
 * gap, and nothing of a spare's earlier use; the next record is numbered past all of them. The
 * test fails if no roll ever wrote over a spare.
 */
class JournalSparesPowerCutTest {

  private static final int CUTS = 8;
  private static final long CAPACITY = 1 << 20;
  private static final long FILE = 64 << 10;

  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(PowerCutMount.Model.class)
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void everySyncedRecordSurvivesACutAndNoSparesRecordComesBack(PowerCutMount.Model model) throws Exception {
    Path backing = Files.createDirectories(tmp.resolve("backing"));
    Path mounted = Files.createDirectories(tmp.resolve("mnt"));
    Random random = new Random(model.ordinal() * 7919L + 17);
    long stored = 0; // what the store holds: replay starts after it
    int reuses = 0;
    for (int cut = 0; cut < CUTS; cut++) {
      Round round;
      try (PowerCutMount mount = PowerCutMount.mount(backing, mounted, model)) {
        Path dir = mounted.resolve("journal");
        if (cut == 0) {
          // The volume creates its journal folder durably (VolumeLock); so does this writer.
          Files.createDirectories(dir);
          JournalFile.forceFolder(mounted);
        }
        round = new Round(stored, spares(dir), 20 + random.nextInt(400));
        Journal journal = Journal.open(dir, CAPACITY, FILE, stored, a -> { });
        round.opened(journal.lastSeq());
        Thread power = new Thread(() -> {
          try {
            round.ready.await(); // the writer is that many appends in, and goes on meanwhile
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          mount.cut();
          round.cut.set(true);
        }, "power");
        power.start();
        round.run(journal, dir, new Random(random.nextLong()));
        power.join();
        try {
          journal.close();
        } catch (IOException | RuntimeException afterTheCut) {
          // the mount answers EIO now
        }
        reuses += round.reuses;
      }
      try (PowerCutMount mount = PowerCutMount.mount(backing, mounted, model)) {
        Path dir = mounted.resolve("journal");
        List<Appended> replayed = new ArrayList<>();
        try (Journal journal = Journal.open(dir, CAPACITY, FILE, round.stored, replayed::add)) {
          long expected = round.stored + 1;
          for (Appended a : replayed) {
            assertThat(a.record().seq()).as("cut %d: replayed in order, no gap, none from a spare", cut)
                .isEqualTo(expected);
            assertThat(a.record().seq()).as("cut %d: never appended", cut).isLessThanOrEqualTo(round.appended);
            ByteBuffer back = ByteBuffer.allocate(a.record().payloadSize());
            journal.read(a.payload(), back);
            assertThat(back.flip()).as("cut %d: record %d's payload", cut, expected)
                .isEqualTo(payload(expected, a.record().payloadSize()));
            expected++;
          }
          assertThat(expected - 1).as("cut %d: every record a sync covered", cut).isGreaterThanOrEqualTo(round.synced);
          long next = journal.append(Type.WRITE, 0, 512, payload(expected, 512)).record().seq();
          assertThat(next).as("cut %d: numbered right after the replayed and retired records", cut)
              .isEqualTo(expected);
          // The store holds what the round retired; the replayed records stay in the journal, synced.
          journal.sync();
          stored = round.stored;
        }
      }
    }
    assertThat(reuses).as("rolls that wrote over a spare").isPositive();
  }

  /**
   * The window a spare's rename must not leave open: a roll wrote over a spare and a sync forced the
   * file, and the power went before the sync forced the folder (POSIX's model: a rename is durable
   * with its folder's fsync). The reused file's data is on disk; its new name is not. Had the
   * retired file's rename to a spare not been made durable when it was made, the file would be back
   * under its old name holding the next use's records, ahead of the live files, and the journal
   * would refuse to open ("lacks records"); as it is, it is back as a spare, and every synced record
   * replays.
   */
  @org.junit.jupiter.api.Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void aReusedFileForcedBeforeItsFolderComesBackAsASpare() throws Exception {
    Path backing = Files.createDirectories(tmp.resolve("backing"));
    Path mounted = Files.createDirectories(tmp.resolve("mnt"));
    try (PowerCutMount mount = PowerCutMount.mount(backing, mounted, PowerCutMount.Model.STRICT)) {
      Path dir = Files.createDirectories(mounted.resolve("journal"));
      JournalFile.forceFolder(mounted);
      Journal journal = Journal.open(dir, CAPACITY, FILE, 0, a -> { });
      for (long seq = 1; seq <= 20; seq++) {
        journal.append(Type.WRITE, 0, 4096, payload(seq, 4096)); // 1..15 in the first file, 16.. in the next
      }
      journal.sync();
      journal.retire(15);
      assertThat(spares(dir)).isEqualTo(1);
      for (long seq = 21; seq <= 32; seq++) {
        journal.append(Type.WRITE, 0, 4096, payload(seq, 4096)); // the roll at 31 takes the spare
      }
      assertThat(spares(dir)).isZero();
      try (java.nio.channels.FileChannel reused = java.nio.channels.FileChannel.open(
          dir.resolve(String.format("%016x.wal", 31)), java.nio.file.StandardOpenOption.WRITE)) {
        reused.force(false); // a sync's forcing of the file, before its forcing of the folder
      }
      mount.cut();
      try {
        journal.close();
      } catch (IOException afterTheCut) {
        // the mount answers EIO now
      }
    }
    try (PowerCutMount mount = PowerCutMount.mount(backing, mounted, PowerCutMount.Model.STRICT)) {
      List<Appended> replayed = new ArrayList<>();
      try (Journal journal = Journal.open(mounted.resolve("journal"), CAPACITY, FILE, 15, replayed::add)) {
        assertThat(replayed).extracting(a -> a.record().seq()).as("the synced records after the store's")
            .startsWith(16L, 17L, 18L, 19L, 20L);
        assertThat(journal.append(Type.TRIM, 0, 512, null).record().seq()).isEqualTo(replayed.size() + 16L);
      }
    }
  }

  /** One writer's life between two cuts. */
  private static final class Round {
    final AtomicBoolean cut = new AtomicBoolean();
    /** Released after the writer's first {@code cutAfter} appends: the power goes then. */
    final java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);
    final int cutAfter;
    long stored;
    long synced;
    long appended;
    int reuses;
    int sparesAfterRetire;

    Round(long stored, int spares, int cutAfter) {
      this.cutAfter = cutAfter;
      this.sparesAfterRetire = spares;
      this.stored = stored;
    }

    /** The journal opened holding records up to lastSeq, all synced by the check before. */
    void opened(long lastSeq) {
      synced = lastSeq;
      appended = lastSeq;
    }

    /** Appends, syncs and retires until the power goes. */
    void run(Journal journal, Path dir, Random random) {
      int appends = 0;
      try {
        while (!cut.get()) {
          if (++appends == cutAfter) {
            ready.countDown();
          }
          int length = 512 * (1 + random.nextInt(16));
          long seq = journal.lastSeq() + 1;
          long got = journal.append(Type.WRITE, 0, length, payload(seq, length)).record().seq();
          assertThat(got).isEqualTo(seq);
          appended = seq;
          int dice = random.nextInt(100);
          if (journal.usedBytes() > CAPACITY / 2) {
            dice = 5; // the store catches up before the journal fills (a full one makes writers wait)
          }
          if (dice < 4) {
            long upTo = journal.lastSeq();
            journal.sync();
            synced = upTo;
          } else if (dice < 7) {
            // The store takes everything synced up to a point (all of it when the journal is half
            // full), then the journal retires it.
            if (synced < appended && journal.usedBytes() > CAPACITY / 2) {
              journal.sync();
              synced = appended;
            }
            if (synced == stored) {
              continue;
            }
            long upTo = journal.usedBytes() > CAPACITY / 2 ? synced
                : stored + 1 + random.nextInt((int) (synced - stored));
            int before = spares(dir);
            reuses += Math.max(0, sparesAfterRetire - before); // the rolls since took these
            stored = upTo;
            journal.retire(upTo);
            sparesAfterRetire = spares(dir);
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
  }

  private static int spares(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return (int) files.filter(f -> f.getFileName().toString().endsWith(JournalSpares.SUFFIX)).count();
    }
  }

  /** A record's payload, made from its number and length (the group-sync test writes the same). */
  static ByteBuffer payload(long seq, int length) {
    byte[] b = new byte[length];
    new Random(seq * 31 + length).nextBytes(b);
    return ByteBuffer.wrap(b);
  }
}
