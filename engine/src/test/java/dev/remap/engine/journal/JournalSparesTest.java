package dev.remap.engine.journal;

import static dev.remap.engine.journal.JournalTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retired journal files kept as spares and written over by later rolls ({@link JournalSpares}). */
class JournalSparesTest {

  @TempDir Path dir;

  private List<Appended> reopen(long afterSeq) throws IOException {
    return JournalTest.replayFrom(dir, afterSeq);
  }

  /**
   * A retired file is kept as a spare and the next roll writes over it: the new file keeps the
   * spare's length (no growth, so a FLUSH's fdatasync writes data alone), and a reopen replays this
   * use's records, never the earlier use's still past them.
   */
  @Test
  void aRollWritesOverARetiredFileAndAReopenReadsOnlyTheNewRecords() throws Exception {
    int record = 4096 + JournalRecord.HEADER;
    List<Appended> kept = new ArrayList<>();
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 40; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i)); // files of 15, 15 and 10 records
      }
      journal.retire(15); // the first file's records are in the store
      assertThat(spareFiles()).hasSize(1);
      assertThat(walFiles()).hasSize(2);
      for (int i = 40; i < 58; i++) {
        kept.add(journal.append(Type.WRITE, i * 4096L, 4096, bytes(4096, 100 + i)));
      }
      assertThat(spareFiles()).as("the roll at record 46 took the spare").isEmpty();
      Path reused = walFiles().get(2);
      assertThat(reused.getFileName().toString()).isEqualTo(String.format("%016x.wal", 46));
      assertThat(Files.size(reused)).as("13 records written over a file of 15").isEqualTo(15L * record);
      journal.sync();
    }
    List<Appended> replayed = reopen(15);
    assertThat(replayed).extracting(a -> a.record().seq())
        .isEqualTo(java.util.stream.LongStream.rangeClosed(16, 58).boxed().toList());
    assertThat(replayed.subList(25, 43)).extracting(Appended::payload)
        .containsExactlyElementsOf(kept.stream().map(Appended::payload).toList());
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 15, a -> { })) {
      ByteBuffer back = ByteBuffer.allocate(4096);
      journal.read(kept.get(kept.size() - 1).payload(), back);
      assertThat(back.flip()).isEqualTo(bytes(4096, 100 + 57));
      assertThat(journal.append(Type.TRIM, 0, 512, null).record().seq()).isEqualTo(59);
    }
  }

  /**
   * A reused file the journal rolled past ends in an earlier use's records: a reopen takes it as
   * whole (the next file's name follows its last record) and keeps the files after it.
   */
  @Test
  void aReusedFileRolledPastKeepsTheFilesAfterIt() throws Exception {
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 30; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i)); // two files of 15
      }
      journal.retire(15);
      for (int i = 30; i < 70; i++) {
        journal.append(Type.WRITE, 0, 4096 + (i % 3) * 512, bytes(4096 + (i % 3) * 512, i));
      }
      journal.sync();
    }
    assertThat(reopen(15)).extracting(a -> a.record().seq())
        .isEqualTo(java.util.stream.LongStream.rangeClosed(16, 70).boxed().toList());
    assertThat(reopen(15)).as("nothing was cut or deleted by the first reopen").hasSize(55);
  }

  /**
   * A power cut kept the reuse's rename but not the first page written over: the file starts with
   * an earlier use's record, numbered below its name. Nothing of it is replayed, and new records
   * are numbered past every retired one.
   */
  @Test
  void aReusedFileWhoseFirstPageWasLostReplaysNothingOfTheEarlierUse() throws Exception {
    Path spare;
    byte[] earlier;
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 15; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i));
      }
      journal.retire(15);
      spare = spareFiles().get(0);
      earlier = Files.readAllBytes(spare);
      journal.append(Type.WRITE, 0, 4096, bytes(4096, 99)); // record 16, over the spare
      journal.sync();
    }
    Path reused = dir.resolve(String.format("%016x.wal", 16));
    try (FileChannel channel = FileChannel.open(reused, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(earlier, 0, 4096), 0); // the earlier use's first page is back
    }
    assertThat(reopen(0)).as("records 1..15 were retired, 16 is torn").isEmpty();
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      assertThat(journal.append(Type.TRIM, 0, 512, null).record().seq()).isEqualTo(16);
    }
  }

  /** At most {@link JournalSpares#MOST} spares, and live files and spares together within the capacity. */
  @Test
  void sparesAreFewAndWithinTheCapacity() throws Exception {
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 100; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i));
      }
      journal.retire(90);
      assertThat(spareFiles()).hasSize(JournalSpares.MOST);
    }
    // A journal of three files' capacity with two live: room for one spare.
    Path small = Files.createDirectories(dir.resolve("small"));
    try (Journal journal = Journal.open(small, 192 << 10, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 45; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i)); // three full files
      }
      journal.retire(15);
      try (Stream<Path> files = Files.list(small)) {
        assertThat(files.filter(f -> f.toString().endsWith(JournalSpares.SUFFIX))).hasSize(1);
      }
    }
  }

  private List<Path> walFiles() throws IOException {
    return files(".wal");
  }

  private List<Path> spareFiles() throws IOException {
    return files(JournalSpares.SUFFIX);
  }

  private List<Path> files(String suffix) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }
}
