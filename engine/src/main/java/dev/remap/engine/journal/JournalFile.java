package dev.remap.engine.journal;

import dev.remap.engine.core.Source;
import dev.remap.engine.store.NoSpaceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * One file of the journal: its channel, how many bytes of it hold whole records, the last
 * sequence number in it, and whether a sync still has to force it. A file is named by the first
 * sequence number it holds, so name order is sequence order.
 *
 * <p>Durability: bytes past {@link #size()} belong to no record (a torn tail, or what a failed
 * append left); they are cut off, durably, before the file takes another record, so that no later
 * file can hold synced records behind a torn one. A file reused from a spare ({@link #reuse})
 * starts with an earlier use's records past its size: every one of them is numbered below the
 * file's name, which is how recovery tells them from this use's records; they are overwritten,
 * never cut, so an append rewrites pages the file has and does not grow it.
 *
 * <p>Locking: none of its own. {@link Journal}'s lock guards its state once the journal is open
 * (recovery, before that, has it to itself); {@link #read} is positional and needs no lock, and
 * {@link #force} runs outside the lock during a sync, which is why {@code retired} is volatile.
 */
final class JournalFile {

  /** Matches the journal's files in its folder. */
  static final String GLOB = "*.wal";
  /** The copy a torn adopted file's whole records go to before it takes the file's name. */
  static final String CUT = ".wal.cut";

  private final Path path;
  private final String name;
  /** Replaced only by {@link #cutTornTail} of an adopted file, at open, before anyone else sees it. */
  private FileChannel channel;
  private long size;
  private long lastSeq;
  private boolean dirty;
  /**
   * The file ends at {@code size} and the channel is positioned there. False after a reopen and
   * after a failed append, which may have left part of a record past size.
   */
  private boolean atEnd;
  private volatile boolean retired;

  private JournalFile(Path path, FileChannel channel, boolean atEnd) {
    this.path = path;
    this.name = path.getFileName().toString();
    this.channel = channel;
    this.atEnd = atEnd;
  }

  /** Creates the file that starts at firstSeq; a full disk is a {@link NoSpaceException}. */
  static JournalFile create(Path dir, long firstSeq) throws IOException {
    Path path = dir.resolve(String.format("%016x.wal", firstSeq));
    try {
      return new JournalFile(path, FileChannel.open(path,
          StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE), true);
    } catch (IOException e) {
      throw NoSpaceException.convert(e, "journal file " + path);
    }
  }

  /** The number of the first record a file was created for, from its name. */
  static long firstSeqOf(Path path) {
    String name = path.getFileName().toString();
    return Long.parseUnsignedLong(name.substring(0, name.length() - ".wal".length()), 16);
  }

  /**
   * Makes a spare (a retired file, see {@link #recycle}) the file that starts at firstSeq: renamed
   * to that name and written from its start over what it held. The rename is durable only with the
   * journal folder's next sync, as a created file's name is; before that a power cut leaves the
   * spare's name, which recovery does not read. A spare that cannot be renamed is deleted and a
   * new file created instead.
   */
  static JournalFile reuse(Path spare, Path dir, long firstSeq) throws IOException {
    Path path = dir.resolve(String.format("%016x.wal", firstSeq));
    try {
      Files.move(spare, path, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.deleteIfExists(spare); // a new file then
      return create(dir, firstSeq);
    }
    // The channel starts at 0 and nothing of this use is past it: at its end, with stale bytes beyond.
    return new JournalFile(path, FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE), true);
  }

  /** Opens a file found at open; its size is 0 until recovery has scanned it. */
  static JournalFile reopen(Path path) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    return new JournalFile(path, channel, false); // a reopened file's channel starts at 0, not at its end
  }

  String name() {
    return name;
  }

  /** Bytes of whole records. */
  long size() {
    return size;
  }

  /** The sequence number of the last record in the file; 0 while it has none. */
  long lastSeq() {
    return lastSeq;
  }

  /** Bytes on disk, whole records or not (recovery compares it with what it could read). */
  long length() throws IOException {
    return channel.size();
  }

  /** Counts a record that recovery found intact at the end of what it has read so far. */
  void recovered(long seq, int encodedSize) {
    lastSeq = seq;
    size += encodedSize;
  }

  /**
   * Appends one encoded record (parts hold exactly size bytes) and returns the position it starts
   * at. A failed write counts nothing and leaves the file ending at its last whole record.
   */
  long append(ByteBuffer[] parts, int size, long seq) throws IOException {
    long position = this.size;
    long written = 0;
    // Appends are serialised by the journal's lock and reads are positional, so the channel stays
    // at the end of the file; it is cut and repositioned only after a reopen or a failed append.
    try {
      endAtSize();
      while (written < size) {
        written += channel.write(parts);
      }
    } catch (IOException e) {
      atEnd = false;
      try {
        // Now, rather than at the next append: it gives the space back at once.
        cutAtSize();
      } catch (IOException stillThere) {
        e.addSuppressed(stillThere);
      }
      throw NoSpaceException.convert(e, "journal file " + path);
    }
    this.size += size;
    lastSeq = seq;
    dirty = true;
    return position;
  }

  /**
   * Makes the file end at its last whole record, durably, unless it already does: called before a
   * file takes a record and before the journal rolls past it.
   */
  void endAtSize() throws IOException {
    if (!atEnd) {
      cutAtSize();
    }
  }

  private void cutAtSize() throws IOException {
    if (channel.size() > size) {
      channel.truncate(size);
      channel.force(false);
    }
    channel.position(size);
    atEnd = true;
  }

  /**
   * Cuts off a torn tail found at open, durably: a later append must not leave records behind it.
   * A file the store adopted ({@link #adopted}) is not cut, since segments may map records after
   * the torn one: its whole records are copied into a file that takes its name here, and the
   * store's name keeps the bytes as they were.
   */
  void cutTornTail() throws IOException {
    if (adopted()) {
      Path copy = path.resolveSibling(name.replace(".wal", CUT));
      try (FileChannel to = FileChannel.open(copy, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE)) {
        long done = 0;
        while (done < size) {
          done += channel.transferTo(done, size - done, to);
        }
        to.force(false);
      }
      Files.move(copy, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      channel.close();
      channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
      forceFolder(path.getParent());
      return;
    }
    channel.truncate(size);
    channel.force(false);
  }

  /**
   * Whether the store adopted this file as an object (a second name for it, see {@code
   * ObjectStore#adoptLazily}): its bytes are then never written over, so it is neither appended to
   * after an open nor kept as a spare.
   */
  boolean adopted() {
    try {
      return ((Number) Files.getAttribute(path, "unix:nlink")).intValue() > 1;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return false; // no link count to read: no store could have linked it either
    }
  }

  /** Hands the file to a sync: true when it holds records no sync has forced yet. */
  boolean takeDirty() {
    boolean was = dirty;
    dirty = false;
    return was;
  }

  /** Gives the file back to the next sync, after a sync that took it failed. */
  void markDirty() {
    dirty = true;
  }

  /** Forces the file's data; one retired meanwhile needs nothing (its records are in the store). */
  void force() throws IOException {
    try {
      channel.force(false);
    } catch (ClosedChannelException e) {
      if (!retired) {
        throw e;
      }
    }
  }

  /** The file has left the journal: its records are in the store, and it will be deleted. */
  void retire() {
    retired = true;
  }

  /** Reads dst full from position; positional, so it needs no lock and leaves appends alone. */
  void read(ByteBuffer dst, long position) throws IOException {
    long at = position;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, at);
      if (n < 0) {
        throw new IOException("unexpected end of journal file at " + at);
      }
      at += n;
    }
  }

  /** Where the payload of the record at position lives; null for records without one. */
  Source.Journaled locate(long position, JournalRecord record) {
    return record.type() == JournalRecord.Type.WRITE
        ? new Source.Journaled(name, position + JournalRecord.HEADER)
        : null;
  }

  /** Forces what no sync has, and closes the file (the journal is closing). */
  void close() throws IOException {
    if (dirty) {
      channel.force(false);
    }
    channel.close();
  }

  /** Makes the folder's entries (created, renamed and deleted files) durable. */
  static void forceFolder(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /** Closes and deletes a retired file. */
  void delete() throws IOException {
    channel.close();
    Files.deleteIfExists(path);
  }

  /**
   * Closes a retired file and renames it to spare, for {@link #reuse}. Readers of its records
   * fail from here on (its channel is closed), as after a delete. The caller makes the rename
   * durable before it hands the spare out: a power cut that undid it would bring the file back
   * under its old name holding the next use's records.
   */
  void recycle(Path spare) throws IOException {
    channel.close();
    Files.move(path, spare, StandardCopyOption.ATOMIC_MOVE);
  }
}
