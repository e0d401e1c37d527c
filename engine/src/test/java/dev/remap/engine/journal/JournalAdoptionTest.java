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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A journal file the store adopted (a second name for it, as the file store makes for segments
 * that link to large writes) is never written again: not kept as a spare, not appended to after
 * a reopen, and a torn tail is cut from the journal's file only, leaving the store's bytes as they
 * were.
 */
class JournalAdoptionTest {

  @TempDir Path tmp;

  @Test
  void anAdoptedFileIsNotKeptAsASpare() throws Exception {
    Path dir = tmp.resolve("journal");
    Path adopted = tmp.resolve("adopted");
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 30; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i)); // two files of 15
      }
      Files.createLink(adopted, files(dir, ".wal").get(0));
      byte[] before = Files.readAllBytes(adopted);
      journal.retire(15);
      assertThat(files(dir, ".spare")).as("spares after the adopted file was retired").isEmpty();
      for (int i = 30; i < 75; i++) {
        journal.append(Type.WRITE, 0, 4096, bytes(4096, i)); // three rolls more
      }
      journal.sync();
      assertThat(Files.readAllBytes(adopted)).as("the adopted file's bytes after three rolls").isEqualTo(before);
      assertThat(((Number) Files.getAttribute(adopted, "unix:nlink")).intValue()).as("its names").isOne();
    }
  }

  @Test
  void aReopenedJournalAppendsAfterAnAdoptedLastFileInANewOne() throws Exception {
    Path dir = tmp.resolve("journal");
    Path adopted = tmp.resolve("adopted");
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      for (int i = 0; i < 5; i++) {
        journal.append(Type.WRITE, i * 4096L, 4096, bytes(4096, i));
      }
      journal.sync();
    }
    Files.createLink(adopted, files(dir, ".wal").get(0));
    byte[] before = Files.readAllBytes(adopted);
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      assertThat(journal.append(Type.WRITE, 0, 4096, bytes(4096, 9)).payload().file())
          .as("the file the first append after the reopen went to").isEqualTo(String.format("%016x.wal", 6));
      journal.sync();
    }
    assertThat(Files.readAllBytes(adopted)).as("the adopted file's bytes").isEqualTo(before);
    assertThat(JournalTest.replayFrom(dir, 0)).extracting(a -> a.record().seq()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
  }

  @Test
  void aTornTailIsCutFromTheJournalsFileAloneWhenTheStoreAdoptedIt() throws Exception {
    Path dir = tmp.resolve("journal");
    Path adopted = tmp.resolve("adopted");
    List<Appended> appended;
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      appended = List.of(journal.append(Type.WRITE, 0, 4096, bytes(4096, 1)),
          journal.append(Type.WRITE, 4096, 4096, bytes(4096, 2)));
      journal.sync();
    }
    Path file = files(dir, ".wal").get(0);
    long whole = Files.size(file);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      channel.write(ByteBuffer.wrap(new byte[] {'R', 'M', 'J', '1', 1, 0, 0})); // a record torn in its header
    }
    Files.createLink(adopted, file);
    byte[] before = Files.readAllBytes(adopted);
    Path unfinished = Files.write(dir.resolve("0000000000000009" + JournalFile.CUT), new byte[100]);
    assertThat(JournalTest.replayFrom(dir, 0)).extracting(Appended::payload)
        .containsExactlyElementsOf(appended.stream().map(Appended::payload).toList());
    assertThat(Files.size(file)).as("the journal's file after the cut").isEqualTo(whole);
    assertThat(Files.readAllBytes(adopted)).as("the store's name for it, after the cut").isEqualTo(before);
    assertThat(Files.isSameFile(adopted, file)).as("still one file").isFalse();
    assertThat(unfinished).as("a copy a crash left unfinished during an earlier cut").doesNotExist();
    try (Journal journal = Journal.open(dir, 1 << 20, 64 << 10, 0, a -> { })) {
      assertThat(journal.append(Type.WRITE, 0, 4096, bytes(4096, 3)).record().seq()).isEqualTo(3);
      journal.sync();
    }
    assertThat(JournalTest.replayFrom(dir, 0)).extracting(a -> a.record().seq()).containsExactly(1L, 2L, 3L);
    assertThat(Files.readAllBytes(adopted)).as("the store's name for it, after an append").isEqualTo(before);
  }

  private static List<Path> files(Path dir, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }
}
