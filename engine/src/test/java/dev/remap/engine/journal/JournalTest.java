package dev.remap.engine.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.journal.Journal.Appended;
import dev.remap.engine.journal.JournalRecord.Type;
import dev.remap.engine.store.NoSpaceException;
import dev.remap.engine.store.SmallDisk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {

  @TempDir Path dir;

  static ByteBuffer bytes(int length, long seed) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return ByteBuffer.wrap(b);
  }

  private List<Appended> reopen(long afterSeq) throws IOException {
    List<Appended> replayed = new ArrayList<>();
    Journal.open(dir, 1 << 20, 64 << 10, afterSeq, replayed::add).close();
    return replayed;
  }

  @Test
  void recordsSurviveAReopenInOrderWithTheirPayloads() throws Exception {
    List<Appended> appended = new ArrayList<>();
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 40; i++) {
        appended.add(journal.append(Type.WRITE, i * 4096L, 4096, bytes(4096, i)));
      }
      appended.add(journal.append(Type.TRIM, 0, 8192, null));
      journal.sync();
      ByteBuffer back = ByteBuffer.allocate(4096);
      journal.read(appended.get(7).payload(), back);
      assertThat(back.flip()).isEqualTo(bytes(4096, 7));
    }
    List<Appended> replayed = reopen(0);
    assertThat(replayed).extracting(a -> a.record().seq()).containsExactlyElementsOf(
        appended.stream().map(a -> a.record().seq()).toList());
    assertThat(replayed).extracting(Appended::payload).containsExactlyElementsOf(
        appended.stream().map(Appended::payload).toList());
    assertThat(dir.toFile().list()).as("40 records of 4 KiB roll over several 64 KiB files").hasSizeGreaterThan(2);
    assertThat(reopen(30)).extracting(a -> a.record().seq()).containsExactly(31L, 32L, 33L, 34L, 35L,
        36L, 37L, 38L, 39L, 40L, 41L);
  }

  @Test
  void aBatchOfWritesCrossesFilesAndReplaysAsSingleAppendsWould() throws Exception {
    List<Appended> appended = new ArrayList<>();
    int count = 50;
    long[] offsets = new long[count];
    ByteBuffer[] payloads = new ByteBuffer[count];
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      appended.add(journal.append(Type.TRIM, 0, 4096, null));
      for (int i = 0; i < count; i++) {
        offsets[i] = i * 8192L;
        payloads[i] = bytes(1024 + 512 * (i % 9), 100 + i);
      }
      int done = 0;
      while (done < count) {
        List<Appended> group = journal.appendWrites(offsets, payloads, done, count);
        assertThat(group).as("each call appends at least one record").isNotEmpty();
        appended.addAll(group);
        done += group.size();
      }
      appended.add(journal.append(Type.WRITE, 4096, 4096, bytes(4096, 1)));
      journal.sync();
      for (int i = 0; i < count; i++) {
        ByteBuffer back = ByteBuffer.allocate(payloads[i].remaining());
        journal.read(appended.get(1 + i).payload(), back);
        assertThat(back.flip()).as("payload of record %d", i).isEqualTo(bytes(1024 + 512 * (i % 9), 100 + i));
      }
    }
    assertThat(appended).extracting(a -> a.record().seq()).containsExactlyElementsOf(
        java.util.stream.LongStream.rangeClosed(1, count + 2).boxed().toList());
    assertThat(dir.toFile().list()).as("the batch (about 150 KiB) rolls over 64 KiB files").hasSizeGreaterThan(2);
    List<Appended> replayed = reopen(0);
    assertThat(replayed).extracting(a -> a.record().seq()).containsExactlyElementsOf(
        appended.stream().map(a -> a.record().seq()).toList());
    assertThat(replayed).extracting(a -> a.record().offset()).containsExactlyElementsOf(
        appended.stream().map(a -> a.record().offset()).toList());
    assertThat(replayed).extracting(Appended::payload).containsExactlyElementsOf(
        appended.stream().map(Appended::payload).toList());
  }

  @Test
  void syncsRunningBesideAppendsAndRollsLoseNothing() throws Exception {
    int writers = 4;
    int each = 200;
    try (Journal journal = Journal.open(dir, 8 << 20, 64 << 10, 0, a -> { })) {
      List<CompletableFuture<Void>> done = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        done.add(CompletableFuture.runAsync(() -> {
          try {
            for (int i = 0; i < each; i++) {
              journal.append(Type.WRITE, (writer * each + i) * 512L, 512, bytes(512, writer * each + i));
              if (i % 7 == writer) {
                journal.sync();
              }
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }));
      }
      CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      journal.sync();
    }
    List<Appended> replayed = reopen(0);
    assertThat(replayed).hasSize(writers * each);
    assertThat(replayed).extracting(a -> a.record().seq())
        .isEqualTo(java.util.stream.LongStream.rangeClosed(1, writers * each).boxed().toList());
    try (Journal journal = Journal.open(dir, 8 << 20, 64 << 10, 0, a -> { })) {
      for (Appended a : replayed) {
        ByteBuffer back = ByteBuffer.allocate(512);
        journal.read(a.payload(), back);
        assertThat(back.flip()).isEqualTo(bytes(512, (int) (a.record().offset() / 512)));
      }
    }
  }

  @Test
  void aTornTailIsCutOffAndAppendsContinueAfterIt() throws Exception {
    try (Journal journal = Journal.open(dir, 1 << 20, 1 << 20, 0, a -> { })) {
      for (int i = 0; i < 3; i++) {
        journal.append(Type.WRITE, 0, 512, bytes(512, i));
      }
      journal.sync();
    }
    Path file = walFiles().get(0);
    long intact = Files.size(file);
    // A crash in the middle of the fourth append: header written, payload half there.
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer header = new JournalRecord(Type.WRITE, 4, 0, 512).header(bytes(512, 3));
      channel.write(header);
      channel.write(ByteBuffer.wrap(new byte[100]));
    }
    assertThat(reopen(0)).hasSize(3);
    assertThat(Files.size(file)).isEqualTo(intact);
    try (Journal journal = Journal.open(dir, 1 << 20, 1 << 20, 0, a -> { })) {
      assertThat(journal.append(Type.ZERO, 0, 512, null).record().seq()).isEqualTo(4);
    }
    assertThat(reopen(0)).hasSize(4);
  }

  @Test
  void aCorruptedPayloadEndsTheReplay() throws Exception {
    try (Journal journal = Journal.open(dir, 1 << 20, 1 << 20, 0, a -> { })) {
      for (int i = 0; i < 5; i++) {
        journal.append(Type.WRITE, 0, 512, bytes(512, i));
      }
    }
    Path file = walFiles().get(0);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(new byte[] {42}), 2L * (512 + JournalRecord.HEADER) + JournalRecord.HEADER + 7);
    }
    assertThat(reopen(0)).extracting(a -> a.record().seq()).containsExactly(1L, 2L);
  }

  @Test
  void aFullJournalMakesWritersWaitUntilRetireFreesSpace() throws Exception {
    try (Journal journal = Journal.open(dir, 128 << 10, 64 << 10, 0, a -> { })) {
      long last = 0;
      while (journal.usedBytes() + 4096 + JournalRecord.HEADER <= journal.capacity()) {
        last = journal.append(Type.WRITE, 0, 4096, bytes(4096, 1)).record().seq();
      }
      CompletableFuture<Appended> blocked = CompletableFuture.supplyAsync(() -> {
        try {
          return journal.append(Type.WRITE, 0, 4096, bytes(4096, 2));
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      assertThatThrownBy(() -> blocked.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
      journal.retire(last);
      assertThat(blocked.get(10, TimeUnit.SECONDS).record().seq()).isEqualTo(last + 1);
      assertThat(journal.usedBytes()).isLessThan(journal.capacity());
    }
  }

  @Test
  void retiredFilesAreDeleted() throws Exception {
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 40; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i));
      }
      journal.retire(40);
      assertThat(journal.usedBytes()).isZero();
      assertThat(walFiles()).isEmpty();
      assertThat(journal.append(Type.WRITE, 0, 4096, bytes(4096, 0)).record().seq()).isEqualTo(41);
    }
    assertThat(reopen(40)).hasSize(1);
  }

  @Test
  void aJournalThatMissesRecordsTheStoreNeedsIsRefused() throws Exception {
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      journal.append(Type.TRIM, 0, 512, null);
      journal.retire(1);
      journal.append(Type.TRIM, 0, 512, null);
    }
    // The store says nothing is uploaded, but the journal starts at record 2, and no note says
    // record 1 was retired here (a journal from elsewhere).
    Files.delete(dir.resolve(RetiredNote.NAME));
    assertThatThrownBy(() -> reopen(0)).hasMessageContaining("lacks records 1 to 1");
  }

  /**
   * Records retired before the store held them durably (no FLUSH covered them) and lost there by
   * a power cut: the journal's first record follows the store's newest with a gap its note covers.
   */
  @Test
  void aGapOfRetiredRecordsIsAcceptedAndNumbersGoOnPastIt() throws Exception {
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 20; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i)); // records 1..20, in two files
      }
      journal.retire(20);
      journal.append(Type.TRIM, 0, 512, null); // record 21
    }
    assertThat(reopen(3)).as("records after the gap from 3 (the store's) to 21")
        .extracting(a -> a.record().seq()).containsExactly(21L);
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 3, a -> { })) {
      assertThat(journal.append(Type.TRIM, 0, 512, null).record().seq()).isEqualTo(22);
      journal.retire(22);
    }
    // Nothing left, the store still at 3: the next record is numbered past every retired one,
    // never again one of them.
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 3, a -> { })) {
      assertThat(journal.append(Type.TRIM, 0, 512, null).record().seq()).isEqualTo(23);
    }
    Files.delete(dir.resolve(RetiredNote.NAME));
    assertThatThrownBy(() -> reopen(3)).hasMessageContaining("lacks records 4 to 22");
  }

  /**
   * A retired file whose unlink a power cut undid, its data partly written back: torn, then the
   * files after it. Its tear is no torn tail (what it took was retired): the files after it stay.
   */
  @Test
  void aRetiredFileBackTornKeepsTheFilesAfterIt() throws Exception {
    Path first;
    byte[] firstBytes;
    long lastOfFirst;
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 40; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i)); // several 64 KiB files
      }
      journal.sync();
      first = walFiles().get(0);
      firstBytes = Files.readAllBytes(first);
      lastOfFirst = firstBytes.length / (4096 + JournalRecord.HEADER);
      journal.retire(lastOfFirst);
      assertThat(first).doesNotExist();
    }
    // Back, with half of it and a torn record.
    Files.write(first, java.util.Arrays.copyOf(firstBytes, firstBytes.length / 2 + 100));
    assertThat(reopen(0)).as("records replayed").extracting(a -> a.record().seq())
        .containsSubsequence(lastOfFirst + 1, 40L).last().isEqualTo(40L);
  }

  private List<Path> walFiles() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".wal")).sorted().toList();
    }
  }

  /** Fills a journal of capacity 128 KiB with 4 KiB writes; returns the last seq appended. */
  private static long fillUp(Journal journal) throws Exception {
    long last = 0;
    while (journal.usedBytes() + 4096 + JournalRecord.HEADER <= journal.capacity()) {
      last = journal.append(Type.WRITE, 0, 4096, bytes(4096, 1)).record().seq();
    }
    return last;
  }

  private static CompletableFuture<Appended> appendAsync(Journal journal, long seed) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return journal.append(Type.WRITE, 0, 4096, bytes(4096, seed));
      } catch (Exception e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
  }

  @Test
  void refuseWhenFullFailsWaitingAppendsAtOnceAndNullMakesThemWaitAgain() throws Exception {
    long last;
    try (Journal journal = Journal.open(dir, 128 << 10, 64 << 10, 0, a -> { })) {
      last = fillUp(journal);
      CompletableFuture<Appended> waiting = appendAsync(journal, 2);
      assertThatThrownBy(() -> waiting.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);

      long start = System.nanoTime();
      journal.refuseWhenFull("no space left on the disk to write object seg/1 in file:///s");
      assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS)).cause()
          .isInstanceOf(NoSpaceException.class).hasMessageContaining("is full").hasMessageContaining("seg/1");
      assertThat(System.nanoTime() - start).as("the waiting append fails promptly").isLessThan(TimeUnit.SECONDS.toNanos(2));
      assertThatThrownBy(() -> journal.append(Type.WRITE, 0, 4096, bytes(4096, 4))).isInstanceOf(NoSpaceException.class);
      assertThat(journal.lastSeq()).as("refused appends take no number").isEqualTo(last);

      journal.refuseWhenFull(null);
      CompletableFuture<Appended> again = appendAsync(journal, 3);
      assertThatThrownBy(() -> again.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
      journal.retire(last);
      assertThat(again.get(10, TimeUnit.SECONDS).record().seq()).isEqualTo(last + 1);
    }
    assertThat(reopen(last)).extracting(a -> a.record().seq()).containsExactly(last + 1);
  }

  @Test
  void aRefusingJournalThatIsNotFullStillTakesAppends() throws Exception {
    try (Journal journal = Journal.open(dir, 128 << 10, 64 << 10, 0, a -> { })) {
      journal.refuseWhenFull("the store is full");
      assertThat(journal.append(Type.WRITE, 0, 4096, bytes(4096, 1)).record().seq()).isEqualTo(1);
    }
  }

  @Test
  void aDiskThatFillsMidAppendKeepsEveryEarlierRecordAndTheNextAppendsReplayCleanly() throws Exception {
    Assumptions.assumeTrue(SmallDisk.canMount(), "mounting a small filesystem needs root");
    Path work = Files.createDirectories(dir.resolve("work"));
    try (SmallDisk disk = SmallDisk.tmpfs(work, 512 << 10, 64)) {
      Path journalDir = disk.root().resolve("journal");
      Files.write(disk.root().resolve("room"), new byte[64 << 10]);
      List<Integer> lengths = new ArrayList<>();
      Random random = new Random(5);
      NoSpaceException full = null;
      try (Journal journal = Journal.open(journalDir, 4 << 20, 96 << 10, 0, a -> { })) {
        while (full == null && lengths.size() < 1000) {
          int length = 3000 + random.nextInt(9000); // unaligned: the disk fills inside a record
          try {
            journal.append(Type.WRITE, lengths.size() * 16384L, length, bytes(length, lengths.size()));
            lengths.add(length);
          } catch (NoSpaceException e) {
            full = e;
          }
        }
        assertThat(full).as("the disk filled").isNotNull();
        assertThat(full.getMessage()).contains(journalDir.toString());
        assertThat(journal.lastSeq()).isEqualTo(lengths.size());
        long records = lengths.stream().mapToLong(l -> l + JournalRecord.HEADER).sum();
        assertThat(journal.usedBytes()).isEqualTo(records);
        assertThat(sizeOf(journalDir)).as("the part of the failed record is cut off").isEqualTo(records);

        Files.delete(disk.root().resolve("room"));
        // Smaller than the failed record: had its tail stayed, replay would meet it after these.
        journal.append(Type.TRIM, 0, 4096, null);
        journal.append(Type.WRITE, 7, 100, bytes(100, -1));
        journal.sync();
      }
      List<Appended> replayed = new ArrayList<>();
      try (Journal journal = Journal.open(journalDir, 4 << 20, 96 << 10, 0, replayed::add)) {
        assertThat(replayed).extracting(a -> a.record().seq())
            .isEqualTo(java.util.stream.LongStream.rangeClosed(1, lengths.size() + 2).boxed().toList());
        for (int i = 0; i < lengths.size(); i++) {
          ByteBuffer back = ByteBuffer.allocate(lengths.get(i));
          journal.read(replayed.get(i).payload(), back);
          assertThat(back.flip()).as("record %d", i + 1).isEqualTo(bytes(lengths.get(i), i));
        }
        assertThat(replayed.get(lengths.size()).record().type()).isEqualTo(Type.TRIM);
        ByteBuffer last = ByteBuffer.allocate(100);
        journal.read(replayed.get(lengths.size() + 1).payload(), last);
        assertThat(last.flip()).isEqualTo(bytes(100, -1));
      }
    }
  }

  @Test
  void aFileThatCannotBeCreatedFailsTheAppendWithNoSpaceUntilRetireFreesOne() throws Exception {
    Assumptions.assumeTrue(SmallDisk.canMount(), "mounting a small filesystem needs root");
    Path work = Files.createDirectories(dir.resolve("work"));
    // Five inodes: the root, the journal folder, its retired note and two journal files.
    try (SmallDisk disk = SmallDisk.tmpfs(work, 1 << 20, 5)) {
      Path journalDir = disk.root().resolve("journal");
      try (Journal journal = Journal.open(journalDir, 1 << 20, 64 << 10, 0, a -> { })) {
        long seq = 0;
        NoSpaceException full = null;
        while (full == null && seq < 100) {
          try {
            seq = journal.append(Type.WRITE, 0, 16 << 10, bytes(16 << 10, seq)).record().seq();
          } catch (NoSpaceException e) {
            full = e;
          }
        }
        assertThat(full).as("the third file could not be created").isNotNull();
        assertThat(full.getMessage()).contains(journalDir.resolve(String.format("%016x.wal", seq + 1)).toString());
        journal.retire(3); // the first file's records (three of 16 KiB fit in 64 KiB) are in the store
        assertThat(journal.append(Type.WRITE, 0, 16 << 10, bytes(16 << 10, seq)).record().seq()).isEqualTo(seq + 1);
        journal.sync();
      }
      assertThat(replayFrom(journalDir, 3)).extracting(a -> a.record().seq())
          .isEqualTo(java.util.stream.LongStream.rangeClosed(4, 7).boxed().toList());
    }
  }

  static List<Appended> replayFrom(Path journalDir, long afterSeq) throws IOException {
    List<Appended> replayed = new ArrayList<>();
    Journal.open(journalDir, 1 << 20, 64 << 10, afterSeq, replayed::add).close();
    return replayed;
  }

  private static long sizeOf(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      long total = 0;
      for (Path file : (Iterable<Path>) files::iterator) {
        total += Files.size(file);
      }
      return total;
    }
  }
}
