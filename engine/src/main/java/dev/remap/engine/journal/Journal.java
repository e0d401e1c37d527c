package dev.remap.engine.journal;

import dev.remap.engine.core.Source;
import dev.remap.engine.store.NoSpaceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The local write-ahead journal of one volume: writes are appended here and acknowledged, and
 * uploaded to the store later. Files are named by the first sequence number they hold and roll
 * at {@code fileSize}; a file leaves once everything in it has reached the store, deleted or kept
 * as a spare that a later roll writes over ({@link JournalSpares}).
 *
 * <p>Durability: {@link #append} puts a record in the page cache; {@link #sync} makes every
 * record appended before it durable (fdatasync of each file written since the last sync, in file
 * order), so whatever follows a torn record was never covered by a completed sync and replay
 * ({@code JournalRecovery}, at open) drops it. An append that fails (a full disk:
 * {@link NoSpaceException}) counts nothing; the bytes it left are cut off, durably, before anything
 * else is written to that file or after it ({@code JournalFile} keeps each file's state).
 *
 * <p>Locking: one lock serialises appends, rolls, syncs and retirement, and guards every file's
 * state ({@link JournalFiles}); reads are positional and take no lock. Callers must not read a file after retiring it
 * (the volume guarantees that by relocating the mapping before it retires). Syncs are serialised
 * by {@link JournalSyncs}'s lock, taken before the journal's lock and never under it. Both are
 * leaves of the volume package's lock order: under them it takes no other lock but the monitors of
 * {@link JournalRetirement} and {@link JournalSpares} (leaves themselves) and calls only its files.
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

  private final Path dir;
  private final long capacity;
  private final long fileSize;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition space = lock.newCondition();
  /** Guarded by lock. */
  private final JournalFiles files;
  private long lastSeq;
  private long usedBytes;
  private boolean closed;
  /** Why a full journal refuses appends instead of waiting; null to wait. */
  private String refusal;

  /** Retired files on their way out (deleted or kept as spares), and the spares rolls take. */
  private final JournalRetirement retirement;
  /** Serialises and groups syncs: one returns only after every earlier append is durable. */
  private final JournalSyncs syncs;

  private Journal(Path dir, long capacity, long fileSize, JournalRetirement retirement,
      JournalRecovery.Recovered recovered) {
    this.dir = dir;
    this.retirement = retirement;
    this.syncs = new JournalSyncs(dir);
    this.capacity = capacity;
    this.fileSize = fileSize;
    this.files = new JournalFiles(dir, recovered.files());
    lastSeq = recovered.lastSeq();
    usedBytes = recovered.usedBytes();
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
    RetiredNote note = RetiredNote.open(dir);
    try {
      JournalRecovery.Recovered recovered = JournalRecovery.recover(dir, afterSeq, note.value(), replay);
      return new Journal(dir, capacity, fileSize,
          new JournalRetirement(note, JournalSpares.open(dir), fileSize, capacity), recovered);
    } catch (IOException | RuntimeException e) {
      note.close();
      throw e;
    }
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
      JournalFile current = makeRoom(size, length);
      ByteBuffer header = record.header(payload);
      ByteBuffer[] parts = payload == null ? new ByteBuffer[] {header} : new ByteBuffer[] {header, payload.duplicate()};
      long position = current.append(parts, size, record.seq());
      usedBytes += size;
      lastSeq = record.seq();
      return new Appended(record, current.locate(position, record));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Appends write records for payloads {@code from} on (up to count), in order, in one gathered
   * write: as many as fit in the current file and the capacity, at least one. Waits while full as
   * {@link #append} does, but only for the first: the caller maps and queues for upload what was
   * appended before it asks for the rest, or a batch larger than the free space would wait for
   * an upload of records the uploader has not been given. Returns the records appended.
   */
  public List<Appended> appendWrites(long[] offsets, ByteBuffer[] payloads, int from, int count)
      throws IOException, InterruptedException {
    lock.lock();
    try {
      JournalFile current = makeRoom(JournalRecord.HEADER + payloads[from].remaining(), payloads[from].remaining());
      long total = 0;
      List<ByteBuffer> parts = new ArrayList<>();
      List<JournalRecord> records = new ArrayList<>();
      for (int i = from; i < count; i++) {
        int next = JournalRecord.HEADER + payloads[i].remaining();
        if (next > fileSize || current.size() + total + next > fileSize || usedBytes + total + next > capacity) {
          break;
        }
        JournalRecord record = new JournalRecord(JournalRecord.Type.WRITE, lastSeq + 1 + (i - from), offsets[i],
            payloads[i].remaining());
        parts.add(record.header(payloads[i]));
        parts.add(payloads[i].duplicate());
        records.add(record);
        total += next;
      }
      long lastOfGroup = records.get(records.size() - 1).seq();
      long position = current.append(parts.toArray(ByteBuffer[]::new), Math.toIntExact(total), lastOfGroup);
      usedBytes += total;
      lastSeq = lastOfGroup;
      List<Appended> appended = new ArrayList<>(records.size());
      for (JournalRecord record : records) {
        appended.add(new Appended(record, current.locate(position, record)));
        position += record.encodedSize();
      }
      return appended;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until the journal has room for the next record (of size bytes, length of them the
   * request's), unless a full journal is refused, and rolls to a new file if the current one
   * cannot take it. Returns the file to append to. Under the lock.
   */
  private JournalFile makeRoom(int size, int length) throws IOException, InterruptedException {
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
    JournalFile current = files.current();
    if (current == null || current.size() + size > fileSize) {
      return files.roll(lastSeq + 1, retirement.takeSpare());
    }
    return current;
  }

  /**
   * Makes every record appended before the call durable; serialised and grouped with other syncs
   * ({@link JournalSyncs}).
   */
  public void sync() throws IOException {
    syncs.sync(lastSeq(), dirty);
  }

  /** A sync's view of what no sync forced yet: taken under the lock, given back on failure. */
  private final JournalSyncs.Dirty dirty = new JournalSyncs.Dirty() {
    @Override
    public JournalSyncs.Taken take() {
      lock.lock();
      try {
        return files.takeDirty(lastSeq);
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void giveBack(JournalSyncs.Taken taken) {
      lock.lock();
      try {
        files.giveBack(taken);
      } finally {
        lock.unlock();
      }
    }
  };

  /** Reads payload bytes of a write from where {@link Appended#payload()} said they are. */
  public void read(Source.Journaled location, ByteBuffer dst) throws IOException {
    JournalFile file;
    lock.lock();
    try {
      file = files.get(location.file());
    } finally {
      lock.unlock();
    }
    if (file == null) {
      throw new IOException("journal file " + location.file() + " in " + dir + " was already retired");
    }
    file.read(dst, location.offset());
  }

  /** Whether the file of this name still holds records of the journal (not retired). */
  public boolean holds(String file) {
    lock.lock();
    try {
      return files.get(file) != null;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The file a write's payload is in, for a store to adopt as it is (the uploader, which alone
   * retires files, so the path stays valid while it uses it).
   */
  public Path pathOf(Source.Journaled location) throws IOException {
    if (!holds(location.file())) {
      throw new IOException("journal file " + location.file() + " in " + dir + " was already retired");
    }
    return dir.resolve(location.file());
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
      files.retireThrough(uptoSeq, retirement::add);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Closes the files {@link #retireLater} took out, deletes them or keeps them as spares, and gives
   * their space back.
   */
  public void deleteRetired() throws IOException {
    List<JournalFile> gone;
    int liveFiles;
    lock.lock();
    try {
      gone = retirement.take();
      liveFiles = files.count();
    } finally {
      lock.unlock();
    }
    retirement.dispose(gone, liveFiles, this::free);
  }

  /** Gives back the space of retired files and wakes appends waiting for it. */
  private void free(long bytes) {
    lock.lock();
    try {
      usedBytes -= bytes;
      space.signalAll();
    } finally {
      lock.unlock();
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
      if (files.count() > 0) {
        throw new IllegalStateException("the journal in " + dir + " still holds records");
      }
      lastSeq = Math.max(lastSeq, seq);
    } finally {
      lock.unlock();
    }
  }

  /** Whether a completed sync made every record up to seq durable (no waiting, no file system call). */
  public boolean syncedThrough(long seq) {
    return syncs.syncedThrough(seq);
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
      files.closeAll();
    } finally {
      lock.unlock();
      retirement.close();
    }
  }
}
