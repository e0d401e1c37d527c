package dev.remap.engine.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.journal.Journal.Appended;
import dev.remap.engine.journal.JournalRecord.Type;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {

  @TempDir Path dir;

  private static ByteBuffer bytes(int length, long seed) {
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
    Path file;
    try (var files = Files.list(dir)) {
      file = files.findFirst().orElseThrow();
    }
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
    Path file;
    try (var files = Files.list(dir)) {
      file = files.findFirst().orElseThrow();
    }
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
      assertThat(dir.toFile().list()).isEmpty();
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
    // The store says nothing is uploaded, but the journal starts at record 2.
    assertThatThrownBy(() -> reopen(0)).hasMessageContaining("lacks records 1 to 1");
  }
}
