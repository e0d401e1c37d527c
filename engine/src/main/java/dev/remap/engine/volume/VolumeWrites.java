package dev.remap.engine.volume;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.Source;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.journal.JournalRecord;
import dev.remap.engine.store.NoSpaceException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A volume's write path: each change (write, zero, trim) is appended to the journal, mapped in
 * {@code live} and queued for upload, in the same order for all three, so that replaying the
 * journal after a crash rebuilds the same state. A change is acknowledged once it is in the
 * journal; it is durable after the next journal sync (a flush, or FUA).
 *
 * <p>Locking (the package's order is in package-info.java): a change holds the volume's
 * {@code writeOrder}, taken through {@link Tenure#lockAsOwner} so that nothing is journaled by a
 * volume that handed over; under it the journal's lock is taken and let go by the append, then
 * the map's write lock to map, then, after letting that go, the uploader's lock to enqueue. This
 * class owns no lock of its own. The caller ({@link Volume}) has checked that the volume is open
 * and that the range is inside it, and flushes for FUA.
 */
final class VolumeWrites {

  private final Tenure tenure;
  private final ReentrantLock writeOrder;
  private final Journal journal;
  private final ReentrantReadWriteLock mapLock;
  private final MappingTable live;
  private final Uploader uploader;
  /** The largest payload of one journal record: longer writes are split. */
  private final int maxRecord;
  /** When a client last changed the volume (System.nanoTime): the cleaner waits for quiet. */
  private volatile long lastWriteNanos;
  /** Why the last write failed for want of local space; null once one succeeds again. */
  private volatile String journalFull;

  /**
   * @param writeOrder the volume's, the one tenure's {@code lockAsOwner} takes
   * @param live the volume's live table, guarded by mapLock
   */
  VolumeWrites(Tenure tenure, ReentrantLock writeOrder, Journal journal, ReentrantReadWriteLock mapLock,
      MappingTable live, Uploader uploader, int maxRecord) {
    this.tenure = tenure;
    this.writeOrder = writeOrder;
    this.journal = journal;
    this.mapLock = mapLock;
    this.live = live;
    this.uploader = uploader;
    this.maxRecord = maxRecord;
  }

  /** Writes src's remaining bytes at offset, one record per maxRecord bytes, and advances src. */
  void write(long offset, ByteBuffer src) throws IOException {
    ByteBuffer data = src.duplicate();
    long at = offset;
    while (data.hasRemaining()) {
      int n = Math.min(data.remaining(), maxRecord);
      ByteBuffer piece = data.slice();
      piece.limit(n);
      change(JournalRecord.Type.WRITE, at, n, piece);
      data.position(data.position() + n);
      at += n;
    }
    src.position(src.limit());
  }

  /** Whether writeAll takes this payload as one record of a batch: not empty, not split. */
  boolean fitsOneRecord(ByteBuffer payload) {
    return payload.hasRemaining() && payload.remaining() <= maxRecord;
  }

  /**
   * Writes a batch of payloads that each {@link #fitsOneRecord fit one record} as gathered
   * journal appends, each group mapped under one acquisition of the map lock and queued for upload
   * together, all under one hold of writeOrder. Same journal and mapping order as one by one.
   * Returns how many were written (their payloads advanced); throws if the first one failed.
   */
  int writeAll(long[] offsets, ByteBuffer[] payloads, int count) throws IOException {
    int done = 0;
    IOException failed = null;
    tenure.lockAsOwner();
    try {
      lastWriteNanos = System.nanoTime();
      while (done < count) {
        List<Journal.Appended> appended;
        try {
          appended = journal.appendWrites(offsets, payloads, done, count);
          journalFull = null;
        } catch (NoSpaceException e) {
          journalFull = e.getMessage();
          failed = e;
          break;
        } catch (IOException e) {
          failed = e;
          break;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          failed = new InterruptedIOException("interrupted while the journal was full");
          break;
        }
        // Mapped and queued before the journal is asked for more: the uploader must know of what
        // fills the journal, or a batch larger than its free space would wait for ever.
        mapLock.writeLock().lock();
        try {
          for (Journal.Appended a : appended) {
            applyLive(a);
          }
        } finally {
          mapLock.writeLock().unlock();
        }
        uploader.enqueueAll(appended);
        done += appended.size();
      }
    } finally {
      writeOrder.unlock();
    }
    if (failed != null && done == 0) {
      throw failed;
    }
    for (int i = 0; i < done; i++) {
      payloads[i].position(payloads[i].limit());
    }
    return done;
  }

  /** Zeroes (ZERO) or trims (TRIM) length bytes at offset, in records of at most 1 GiB. */
  void changeRange(JournalRecord.Type type, long offset, long length) throws IOException {
    long at = offset;
    long end = offset + length;
    while (at < end) {
      int n = (int) Math.min(end - at, 1L << 30);
      change(type, at, n, null);
      at += n;
    }
  }

  /**
   * Maps a record the journal replayed at open and queues it for upload. The volume is still
   * being built, so no other thread sees it and no lock is taken.
   */
  void replayed(Journal.Appended appended) {
    applyLive(appended);
    uploader.enqueue(appended);
  }

  /** When a client last changed the volume (System.nanoTime), 0 if never since open. */
  long lastWriteNanos() {
    return lastWriteNanos;
  }

  /** Why the last change failed for want of local space, or null once one succeeded again. */
  String journalFull() {
    return journalFull;
  }

  /** Journals one change and maps it, in the same order for both. */
  private void change(JournalRecord.Type type, long offset, int length, ByteBuffer payload) throws IOException {
    tenure.lockAsOwner();
    try {
      lastWriteNanos = System.nanoTime();
      Journal.Appended appended;
      try {
        appended = journal.append(type, offset, length, payload);
      } catch (NoSpaceException e) {
        journalFull = e.getMessage();
        throw e;
      }
      journalFull = null;
      mapLock.writeLock().lock();
      try {
        applyLive(appended);
      } finally {
        mapLock.writeLock().unlock();
      }
      uploader.enqueue(appended);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while the journal was full");
    } finally {
      writeOrder.unlock();
    }
  }

  /** Points live at what a journaled record holds: under the map's write lock, or at open. */
  private void applyLive(Journal.Appended appended) {
    JournalRecord r = appended.record();
    Source source = switch (r.type()) {
      case WRITE -> appended.payload();
      case ZERO -> Source.Zero.INSTANCE;
      case TRIM -> Source.Hole.INSTANCE;
    };
    live.put(r.offset(), r.length(), source);
  }
}
