package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.journal.Journal;
import dev.remap.engine.journal.JournalRecord;
import dev.remap.engine.journal.JournalRecord.Type;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A journal file that a power cut left with its name but none of its records (a roll whose file
 * entry an fsync committed before any of its data), built by hand: {@link
 * LazySegmentPowerCutTest} met it as an open refusing the journal ("lacks records") and as a roll
 * failing on a file that exists. The records appended after such an open are acknowledged by a
 * sync, and the next open must replay every one of them.
 */
class LazySegmentJournalRecoveryTest {

  private static final int PAYLOAD = 4096;
  /** Two records per file. */
  private static final long FILE_SIZE = 2L * (JournalRecord.HEADER + PAYLOAD);

  @TempDir Path dir;

  @Test
  void aFileLeftEmptyTakesNoRecordsNumberedBeforeItsName() throws Exception {
    append(0, 2);
    // The file of a roll at record 9, whose name a cut kept and whose records it lost (with 3 to 8).
    Files.createFile(file(9));
    assertThat(replayFrom(2)).isEmpty();
    append(2, 6); // records 3 to 8, over three files
    assertThat(replayFrom(2)).containsExactly(3L, 4L, 5L, 6L, 7L, 8L);
  }

  @Test
  void aFileLeftEmptyIsNotCreatedAgainByTheNextRoll() throws Exception {
    append(0, 2);
    Files.createFile(file(5));
    append(2, 4); // records 3 to 6: the roll at 5 creates its file anew
    assertThat(replayFrom(2)).containsExactly(3L, 4L, 5L, 6L);
  }

  /** Opens the journal as a volume whose store holds records up to storeSeq, appends count records, syncs. */
  private void append(long storeSeq, int count) throws Exception {
    try (Journal journal = Journal.open(dir, 1 << 20, FILE_SIZE, storeSeq, a -> { })) {
      for (int i = 0; i < count; i++) {
        journal.append(Type.WRITE, 0, PAYLOAD, payload(journal.lastSeq() + 1));
      }
      journal.sync();
    }
  }

  /** The seqs an open replays after storeSeq, each with the payload it was written with. */
  private List<Long> replayFrom(long storeSeq) throws IOException {
    List<Journal.Appended> replayed = new ArrayList<>();
    List<Long> seqs = new ArrayList<>();
    try (Journal journal = Journal.open(dir, 1 << 20, FILE_SIZE, storeSeq, replayed::add)) {
      for (Journal.Appended a : replayed) {
        ByteBuffer back = ByteBuffer.allocate(PAYLOAD);
        journal.read(a.payload(), back);
        assertThat(back.flip()).as("record %d", a.record().seq()).isEqualTo(payload(a.record().seq()));
        seqs.add(a.record().seq());
      }
    }
    return seqs;
  }

  private Path file(long firstSeq) {
    return dir.resolve(String.format("%016x.wal", firstSeq));
  }

  private static ByteBuffer payload(long seq) {
    ByteBuffer b = ByteBuffer.allocate(PAYLOAD);
    LongStream.range(0, PAYLOAD / Long.BYTES).forEach(i -> b.putLong(seq));
    return b.flip();
  }
}
