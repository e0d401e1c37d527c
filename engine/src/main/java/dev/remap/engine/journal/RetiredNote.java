package dev.remap.engine.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * How far the journal was ever retired, kept durably in the file {@code retired} beside the
 * journal's files. Written (and synced) before retired files are unlinked: the journal may retire
 * records the store holds only in segments not synced yet, when no client's FLUSH covered them
 * ({@code Volume}'s retirement rule), and a power cut can then take those segments and keep the
 * unlinks. The journal's first record after such a cut follows the store's last one with a gap;
 * the note tells that gap (records retired here, never flushed) from a journal that does not
 * belong to the store's state. It also tells a retired file a power cut brought back torn (its
 * unlink lost, its data never synced) from a torn tail: what follows it is kept.
 *
 * <p>Two slots in different sectors, written in turn, each a number and its checksum: a write torn
 * by a power cut damages one slot, and the other still holds the value before it, which covered
 * every unlink made so far (none is made before the write's sync returns).
 *
 * <p>Locking: its own monitor, a leaf (the journal advances it outside its lock: the sync must not
 * stall appends).
 */
final class RetiredNote implements AutoCloseable {

  static final String NAME = "retired";
  private static final int SLOT = 512;
  private static final int RECORD = 2 * Long.BYTES;

  private final FileChannel channel;
  private long value;
  private int nextSlot;

  private RetiredNote(FileChannel channel, long value, int nextSlot) {
    this.channel = channel;
    this.value = value;
    this.nextSlot = nextSlot;
  }

  /** Opens the note in dir (0 when there is none yet; creating it syncs the folder). */
  static RetiredNote open(Path dir) throws IOException {
    Path path = dir.resolve(NAME);
    boolean created = !Files.exists(path);
    FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    try {
      if (created) {
        channel.force(true);
        try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
          folder.force(true);
        }
      }
      long first = readSlot(channel, 0);
      long second = readSlot(channel, 1);
      // The next write goes over the older slot, so the newer one survives a tear.
      return new RetiredNote(channel, Math.max(first, second), first > second ? 1 : 0);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** The highest journal number ever retired (0: none). */
  synchronized long value() {
    return value;
  }

  /** Raises the note to seq, durably, before the caller unlinks files holding records up to it. */
  synchronized void advance(long seq) throws IOException {
    if (seq <= value) {
      return;
    }
    ByteBuffer record = ByteBuffer.allocate(RECORD).putLong(seq).putLong(checksum(seq)).flip();
    long position = (long) nextSlot * SLOT;
    while (record.hasRemaining()) {
      position += channel.write(record, position);
    }
    channel.force(false);
    value = seq;
    nextSlot = 1 - nextSlot;
  }

  @Override
  public synchronized void close() throws IOException {
    channel.close();
  }

  /** A slot's number, or 0 when it is empty or torn. */
  private static long readSlot(FileChannel channel, int slot) throws IOException {
    ByteBuffer record = ByteBuffer.allocate(RECORD);
    long position = (long) slot * SLOT;
    while (record.hasRemaining()) {
      int n = channel.read(record, position + record.position());
      if (n < 0) {
        return 0;
      }
    }
    record.flip();
    long seq = record.getLong();
    return record.getLong() == checksum(seq) && seq > 0 ? seq : 0;
  }

  private static long checksum(long seq) {
    CRC32C crc = new CRC32C();
    crc.update(ByteBuffer.allocate(Long.BYTES).putLong(seq).flip());
    return crc.getValue() ^ 0x5245544952454400L; // "RETIRED": an all-zero slot never checks out
  }
}
