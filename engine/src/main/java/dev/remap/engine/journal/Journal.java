package dev.remap.engine.journal;

import dev.remap.engine.core.Source;
import dev.remap.engine.store.NoSpaceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The local write-ahead journal of one volume: writes are appended here and acknowledged, and
 * uploaded to the store later. Files are named by the first sequence number they hold and roll
 * at {@code fileSize}; a file is deleted once everything in it has reached the store.
 *
 * <p>Durability: {@link #append} puts a record in the page cache; {@link #sync} makes every
 * record appended before it durable (fdatasync of each file written since the last sync, in file
 * order), so whatever follows a torn record was never covered by a completed sync and replay drops
 * it. An append that fails (a full disk: {@link NoSpaceException}) counts nothing; the bytes it
 * left are cut off, durably, before anything else is written to that file or after it.
 *
 * <p>Locking: one lock serialises appends, rolls, syncs and retirement; reads are positional and
 * take no lock. Callers must not read a file after retiring it (the volume guarantees that by
 * relocating the mapping before it retires).
 *
 * <p>Full: when the journal holds {@code capacity} bytes, {@link #append} waits for
 * {@link #retire} to free space (back-pressure) unless {@link #refuseWhenFull} gave a reason, when
 * it throws {@link NoSpaceException} at once. The uploader sets that reason when the store says it
 * has no space (retiring will not come soon) and clears it after its next successful upload.
 */
public final class Journal implements AutoCloseable {

  /** What an append produced: its sequence number and, for writes, where the payload lives. */
  public record Appended(JournalRecord record, Source.Journaled payload) {}

  /** Receives the records found at open, in sequence order. */
  @FunctionalInterface
  public interface Replay {
    void accept(Appended appended) throws IOException;
  }

  private static final class Segment {
    final String name;
    final FileChannel channel;
    long size;
    long lastSeq;
    boolean dirty;
    /**
     * The file ends at {@code size} and the channel is positioned there. False after a reopen and
     * after a failed append, which may have left part of a record past size.
     */
    boolean atEnd = true;
    boolean retired;

    Segment(String name, FileChannel channel, long size) {
      this.name = name;
      this.channel = channel;
      this.size = size;
    }
  }

  private final Path dir;
  private final long capacity;
  private final long fileSize;
  private final ReentrantLock lock = new ReentrantLock();
  /** Serialises syncs, so a sync returns only after every earlier append is durable. */
  private final ReentrantLock syncLock = new ReentrantLock();
  private final Condition space = lock.newCondition();
  private final TreeMap<String, Segment> files = new TreeMap<>();
  private Segment current;
  /** Taken out by retireLater, waiting for deleteRetired. */
  private final List<Segment> retiredFiles = new ArrayList<>();
  private long lastSeq;
  private long scanned;
  private long usedBytes;
  private boolean closed;
  /** Why a full journal refuses appends instead of waiting; null to wait. */
  private String refusal;
  /** A file was created since the last sync: the directory entry is not durable yet. */
  private boolean directoryDirty;

  private Journal(Path dir, long capacity, long fileSize) {
    this.dir = dir;
    this.capacity = capacity;
    this.fileSize = fileSize;
  }

  /**
   * Opens (or creates) the journal in dir and hands every intact record with seq > afterSeq to
   * replay, in order. A torn tail (crash during an append) is cut off.
   */
  public static Journal open(Path dir, long capacity, long fileSize, long afterSeq, Replay replay) throws IOException {
    if (fileSize <= JournalRecord.HEADER || capacity < fileSize) {
      throw new IllegalArgumentException("journal capacity must be at least one file of " + fileSize + " bytes");
    }
    Files.createDirectories(dir);
    Journal journal = new Journal(dir, capacity, fileSize);
    journal.load(afterSeq, replay);
    return journal;
  }

  private void load(long afterSeq, Replay replay) throws IOException {
    List<Path> paths = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.wal")) {
      stream.forEach(paths::add);
    }
    paths.sort(null);
    lastSeq = afterSeq;
    boolean torn = false;
    for (Path path : paths) {
      if (torn) {
        // Everything after a torn record was written later and no completed sync covered it
        // (a sync forces every file in order): drop it.
        Files.delete(path);
        continue;
      }
      FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
      Segment segment = new Segment(path.getFileName().toString(), channel, 0);
      segment.atEnd = false; // a reopened file's channel starts at 0, not at its end
      torn = scan(segment, afterSeq, replay);
      files.put(segment.name, segment);
      usedBytes += segment.size;
    }
    if (!files.isEmpty()) {
      current = files.lastEntry().getValue();
    }
  }

  /** Reads the records of one file; returns true when it ended in a torn record (now cut off). */
  private boolean scan(Segment segment, long afterSeq, Replay replay) throws IOException {
    long position = 0;
    long end = segment.channel.size();
    ByteBuffer header = ByteBuffer.allocate(JournalRecord.HEADER);
    while (position + JournalRecord.HEADER <= end) {
      header.clear();
      readFully(segment.channel, header, position);
      var parsed = JournalRecord.parse(header.flip());
      if (parsed.isEmpty()) {
        break;
      }
      JournalRecord record = parsed.get().record();
      boolean inOrder = scanned == 0 || record.seq() == scanned + 1;
      if (!inOrder || position + record.encodedSize() > end) {
        break;
      }
      ByteBuffer payload = null;
      if (record.payloadSize() > 0) {
        payload = ByteBuffer.allocate(record.payloadSize());
        readFully(segment.channel, payload, position + JournalRecord.HEADER);
        payload.flip();
      }
      if (!parsed.get().verify(payload)) {
        break;
      }
      if (record.seq() > afterSeq) {
        if (record.seq() != lastSeq + 1) {
          throw new IOException("the journal in " + dir + " lacks records " + (lastSeq + 1) + " to "
              + (record.seq() - 1) + ": it does not belong to this volume's state in the store");
        }
        lastSeq = record.seq();
        replay.accept(new Appended(record, location(segment, position, record)));
      }
      scanned = record.seq();
      segment.lastSeq = record.seq();
      position += record.encodedSize();
    }
    segment.size = position;
    if (position < end) {
      segment.channel.truncate(position);
      segment.channel.force(false);
      return true;
    }
    return false;
  }

  /**
   * Appends a record; for a write, payload holds exactly length bytes. Blocks while full, unless
   * {@link #refuseWhenFull} gave a reason. Throws {@link NoSpaceException} when the disk is full
   * (nothing of the record counts, and the next append writes where this one started).
   */
  public Appended append(JournalRecord.Type type, long offset, int length, ByteBuffer payload)
      throws IOException, InterruptedException {
    lock.lock();
    try {
      JournalRecord record = new JournalRecord(type, lastSeq + 1, offset, length);
      int size = record.encodedSize();
      if (size > fileSize) {
        throw new IllegalArgumentException("a request of " + length + " bytes is larger than a journal file");
      }
      while (!closed && usedBytes + size > capacity) {
        if (refusal != null) {
          throw new NoSpaceException("the journal in " + dir + " is full (" + usedBytes + " of " + capacity
              + " bytes) and cannot be emptied into the store: " + refusal);
        }
        space.await();
      }
      if (closed) {
        throw dev.remap.engine.block.DeviceException.closed("the journal in " + dir + " is closed");
      }
      if (current == null || current.size + size > fileSize) {
        roll(record.seq());
      }
      long position = current.size;
      ByteBuffer header = record.header(payload);
      ByteBuffer[] parts = payload == null ? new ByteBuffer[] {header} : new ByteBuffer[] {header, payload.duplicate()};
      long written = 0;
      // Appends are serialised by the lock and reads are positional, so the channel stays at the
      // end of the file; it is cut and repositioned only after a reopen or a failed append.
      try {
        if (!current.atEnd) {
          cutAtSize(current);
        }
        while (written < size) {
          written += current.channel.write(parts);
        }
      } catch (IOException e) {
        current.atEnd = false;
        try {
          // Now, rather than at the next append: it gives the space back at once.
          cutAtSize(current);
        } catch (IOException stillThere) {
          e.addSuppressed(stillThere);
        }
        throw NoSpaceException.convert(e, "journal file " + dir.resolve(current.name));
      }
      current.size += size;
      current.lastSeq = record.seq();
      current.dirty = true;
      usedBytes += size;
      lastSeq = record.seq();
      return new Appended(record, location(current, position, record));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Cuts off what a failed append left past the last whole record, durably (so that no later file
   * can hold synced records behind a torn one), and positions the channel at the end.
   */
  private static void cutAtSize(Segment segment) throws IOException {
    if (segment.channel.size() > segment.size) {
      segment.channel.truncate(segment.size);
      segment.channel.force(false);
    }
    segment.channel.position(segment.size);
    segment.atEnd = true;
  }

  private void roll(long firstSeq) throws IOException {
    // The previous file stays dirty and the new directory entry unsynced: the next sync makes
    // both durable, off the path of writers that did not ask for durability.
    if (current != null && !current.atEnd) {
      cutAtSize(current);
    }
    String name = String.format("%016x.wal", firstSeq);
    FileChannel channel;
    try {
      channel = FileChannel.open(dir.resolve(name),
          StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw NoSpaceException.convert(e, "journal file " + dir.resolve(name));
    }
    current = new Segment(name, channel, 0);
    files.put(name, current);
    directoryDirty = true;
  }

  /**
   * Makes every record appended before the call durable. Appends go on while the files are
   * forced (a flush does not stall other writers); syncs are serialised, so one that finds
   * nothing dirty still returns only after the sync in progress has finished.
   */
  public void sync() throws IOException {
    syncLock.lock();
    try {
      List<Segment> dirty = new ArrayList<>();
      boolean directory;
      lock.lock();
      try {
        for (Segment segment : files.values()) {
          if (segment.dirty) {
            segment.dirty = false;
            dirty.add(segment);
          }
        }
        directory = directoryDirty;
        directoryDirty = false;
      } finally {
        lock.unlock();
      }
      try {
        for (Segment segment : dirty) {
          force(segment);
        }
        if (directory) {
          forceDirectory();
        }
      } catch (IOException e) {
        lock.lock();
        try {
          dirty.forEach(segment -> segment.dirty = true);
          directoryDirty |= directory;
        } finally {
          lock.unlock();
        }
        throw e;
      }
    } finally {
      syncLock.unlock();
    }
  }

  /** Makes the journal folder's entries (new files) durable. */
  private void forceDirectory() throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private static void force(Segment segment) throws IOException {
    try {
      segment.channel.force(false);
    } catch (ClosedChannelException e) {
      if (!segment.retired) {
        throw e;
      }
      // Retired meanwhile: its records are in the store, nothing to make durable here.
    }
  }

  /** Reads payload bytes of a write from where {@link Appended#payload()} said they are. */
  public void read(Source.Journaled location, ByteBuffer dst) throws IOException {
    Segment segment;
    lock.lock();
    try {
      segment = files.get(location.file());
    } finally {
      lock.unlock();
    }
    if (segment == null) {
      throw new IOException("journal file " + location.file() + " in " + dir + " was already retired");
    }
    readFully(segment.channel, dst, location.offset());
  }

  /** Deletes the files whose records all have seq ≤ uptoSeq (they are in the store now). */
  public void retire(long uptoSeq) throws IOException {
    retireLater(uptoSeq);
    deleteRetired();
  }

  /**
   * Takes the files whose records all have seq ≤ uptoSeq out of the journal: their locations no
   * longer read, and {@link #deleteRetired} deletes them. Cheap (no file system call), so that
   * the volume can do it under its map lock, in the same step as the mapping leaves them, and
   * unlink the files after letting go of the lock. Their space counts as used until then.
   */
  public void retireLater(long uptoSeq) throws IOException {
    lock.lock();
    try {
      Iterator<Map.Entry<String, Segment>> it = files.entrySet().iterator();
      while (it.hasNext()) {
        Segment segment = it.next().getValue();
        if (segment == current || segment.lastSeq > uptoSeq) {
          break;
        }
        it.remove();
        segment.retired = true;
        retiredFiles.add(segment);
      }
      if (current != null && current.lastSeq <= uptoSeq && current.size > 0 && files.size() == 1) {
        // Everything is uploaded: start afresh rather than keep an old file forever.
        files.remove(current.name);
        current.retired = true;
        retiredFiles.add(current);
        current = null;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Closes and deletes the files {@link #retireLater} took out, and gives their space back. */
  public void deleteRetired() throws IOException {
    List<Segment> gone;
    lock.lock();
    try {
      gone = new ArrayList<>(retiredFiles);
      retiredFiles.clear();
    } finally {
      lock.unlock();
    }
    IOException failed = null;
    long freed = 0;
    for (Segment segment : gone) {
      try {
        segment.channel.close();
        Files.deleteIfExists(dir.resolve(segment.name));
      } catch (IOException e) {
        failed = failed == null ? e : failed; // the other files still go
      }
      freed += segment.size;
    }
    lock.lock();
    try {
      usedBytes -= freed;
      space.signalAll();
    } finally {
      lock.unlock();
    }
    if (failed != null) {
      throw failed;
    }
  }

  /**
   * Sets why a full journal refuses appends: with a reason, {@link #append} throws
   * {@link NoSpaceException} carrying it instead of waiting, and appends waiting now wake up and
   * throw it too; with null, appends wait for space again (the default). A journal that is not
   * full takes appends either way.
   *
   * <p>The uploader calls it with the store's error when an upload fails for lack of space (the
   * journal cannot be emptied until someone frees space, so waiting would hang the client), and
   * with null after its next successful upload.
   */
  public void refuseWhenFull(String reason) {
    lock.lock();
    try {
      refusal = reason;
      space.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Numbers the next record after seq if that is higher than this journal got to: another owner's
   * changes reached the store with numbers up to seq, and replay after a crash skips what the
   * store has by number. Only on a journal whose records are all retired.
   */
  public void continueAfter(long seq) {
    lock.lock();
    try {
      if (!files.isEmpty()) {
        throw new IllegalStateException("the journal in " + dir + " still holds records");
      }
      lastSeq = Math.max(lastSeq, seq);
    } finally {
      lock.unlock();
    }
  }

  public long lastSeq() {
    lock.lock();
    try {
      return lastSeq;
    } finally {
      lock.unlock();
    }
  }

  public long usedBytes() {
    lock.lock();
    try {
      return usedBytes;
    } finally {
      lock.unlock();
    }
  }

  public long capacity() {
    return capacity;
  }

  @Override
  public void close() throws IOException {
    deleteRetired();
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      space.signalAll();
      for (Segment segment : files.values()) {
        if (segment.dirty) {
          segment.channel.force(false);
        }
        segment.channel.close();
      }
      if (directoryDirty) {
        forceDirectory();
      }
    } finally {
      lock.unlock();
    }
  }

  private static Source.Journaled location(Segment segment, long position, JournalRecord record) {
    return record.type() == JournalRecord.Type.WRITE
        ? new Source.Journaled(segment.name, position + JournalRecord.HEADER)
        : null;
  }

  private static void readFully(FileChannel channel, ByteBuffer dst, long position) throws IOException {
    long at = position;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, at);
      if (n < 0) {
        throw new IOException("unexpected end of journal file at " + at);
      }
      at += n;
    }
  }
}
