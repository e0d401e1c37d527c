package dev.remap.engine.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.PowerCutMount;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The power-cut filesystem the durability tests run on shows a reader what was written before,
 * as a local disk's page cache does, while the file is being written over: the journal's pattern
 * (its files are written over as spares, and the uploader reads records right after they are
 * appended). Through the kernel's cache of the FUSE file a read racing with its own readahead
 * returned bytes a completed write had replaced, and PowerCutTest once found a segment holding a
 * block's old neighbour for it; the tool now answers every open with direct I/O. Without that,
 * this test saw stale records in a few of its passes on this machine.
 */
class PowerCutMountReadsTest {

  private static final int RECORD = JournalRecord.HEADER + 4096;
  private static final int RECORDS = 250;
  private static final int PASSES = 150;
  /** The most a reader takes at once, as the uploader's runs of records do. */
  private static final int RUN = 200;

  @TempDir Path tmp;

  @Test
  void aReaderFollowingAWriterOverAFileWrittenOverReadsWhatWasWritten() throws Exception {
    List<String> stale = new ArrayList<>();
    Path mounted = Files.createDirectories(tmp.resolve("mnt"));
    try (PowerCutMount mount = PowerCutMount.mount(Files.createDirectories(tmp.resolve("backing")), mounted,
        PowerCutMount.Model.ORDERED)) {
      Path file = mount.path().resolve("journal-file");
      try (FileChannel first = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        for (int i = 0; i < RECORDS; i++) {
          first.write(record(0, i), (long) i * RECORD);
        }
        first.force(true);
      }
      for (int pass = 1; pass <= PASSES; pass++) {
        stale.addAll(writeOverWhileReading(file, pass));
      }
    }
    assertThat(stale).as("records read after their write returned, holding an earlier pass's bytes").isEmpty();
  }

  /** One pass: a writer writes every record over from the start while a reader follows it. */
  private static List<String> writeOverWhileReading(Path file, int pass) throws Exception {
    AtomicInteger written = new AtomicInteger();
    List<String> stale = new ArrayList<>();
    try (FileChannel writes = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileChannel reads = FileChannel.open(file, StandardOpenOption.READ)) {
      Thread writer = new Thread(() -> {
        try {
          for (int i = 0; i < RECORDS; i++) {
            ByteBuffer r = record(pass, i);
            while (r.hasRemaining()) {
              writes.write(r, (long) i * RECORD + r.position());
            }
            written.set(i + 1);
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      writer.start();
      ByteBuffer run = ByteBuffer.allocateDirect(RUN * RECORD);
      for (int next = 0; next < RECORDS; ) {
        int upTo = Math.min(written.get(), next + RUN);
        if (upTo == next) {
          Thread.onSpinWait();
          continue;
        }
        run.clear().limit((upTo - next) * RECORD);
        while (run.hasRemaining()) {
          reads.read(run, (long) next * RECORD + run.position());
        }
        for (int i = next; i < upTo; i++) {
          for (int at = 0; at < RECORD; at += Long.BYTES) {
            long seen = run.getLong((i - next) * RECORD + at);
            if (seen != stamp(pass, i)) {
              stale.add("pass " + pass + " record " + i + " read as pass " + (seen >>> 32) + " at byte " + at);
              break;
            }
          }
        }
        next = upTo;
      }
      writer.join();
    }
    return stale;
  }

  private static ByteBuffer record(int pass, int index) {
    ByteBuffer b = ByteBuffer.allocate(RECORD);
    while (b.hasRemaining()) {
      b.putLong(stamp(pass, index));
    }
    return b.flip();
  }

  private static long stamp(int pass, int index) {
    return (long) pass << 32 | index;
  }
}
