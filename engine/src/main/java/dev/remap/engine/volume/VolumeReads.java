package dev.remap.engine.volume;

import dev.remap.engine.block.BlockDevice.Extent;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.store.NoSuchObjectException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A volume's read path: what its {@code live} table says a range holds, read from the journal,
 * from the store, or zeros; and the extents that table gives.
 *
 * <p>Locking: the volume's map read lock is held while the table is resolved and journal bytes are
 * read, because the uploader relocates ranges and takes journal files out of the journal under the
 * write lock, so a read never reads a retired file. Store objects are immutable, so store reads
 * happen after the lock is let go; a segment the cleaner emptied may be collected under a read that
 * resolved it just before, and that read then resolves again. No other lock of the package is taken.
 * The caller has checked the range and made sure this process owns the volume (a standby's table is
 * as old as its last handover).
 */
final class VolumeReads {

  /** A range is resolved again at most twice: each retry follows a move the cleaner committed. */
  private static final int ATTEMPTS = 3;
  private static final byte[] ZEROS = new byte[64 << 10];

  private final ReentrantReadWriteLock mapLock;
  private final MappingTable live;
  private final Journal journal;
  private final VolumeReader reader;

  /** @param live the volume's live table, guarded by mapLock */
  VolumeReads(ReentrantReadWriteLock mapLock, MappingTable live, Journal journal, VolumeReader reader) {
    this.mapLock = mapLock;
    this.live = live;
    this.journal = journal;
    this.reader = reader;
  }

  /** Fills dst's remaining bytes (at least one) with the volume's from offset, and advances it. */
  void read(long offset, ByteBuffer dst) throws IOException {
    int length = dst.remaining();
    int base = dst.position();
    for (int attempt = 1; ; attempt++) {
      try {
        readOnce(offset, dst, base, length);
        break;
      } catch (NoSuchObjectException collected) {
        // The cleaner moved these bytes to another segment after this read resolved them, and a
        // collection deleted the old one meanwhile: the mapping now says where they are.
        if (attempt == ATTEMPTS) {
          throw collected;
        }
      }
    }
    dst.position(base + length);
  }

  /**
   * As {@link #read} if every byte is in the journal or readable locally from the store's reader
   * (its local-disk tier); false otherwise, dst's position unchanged (see BlockDevice#readIfLocal).
   */
  boolean readIfLocal(long offset, ByteBuffer dst) throws IOException {
    int length = dst.remaining();
    int base = dst.position();
    try {
      if (!readOnce(offset, dst, base, length, true)) {
        return false;
      }
    } catch (NoSuchObjectException collected) {
      return false; // resolved again by the read made where waiting is allowed
    }
    dst.position(base + length);
    return true;
  }

  private void readOnce(long offset, ByteBuffer dst, int base, int length) throws IOException {
    readOnce(offset, dst, base, length, false);
  }

  /** One resolve and read; false when onlyLocal and a store span is not local (nothing more read). */
  private boolean readOnce(long offset, ByteBuffer dst, int base, int length, boolean onlyLocal) throws IOException {
    List<Span> fromStore = new ArrayList<>();
    mapLock.readLock().lock();
    try {
      for (Span span : live.resolve(offset, length)) {
        ByteBuffer part = slice(dst, base + (int) (span.offset() - offset), (int) span.length());
        if (span.source() instanceof Source.Journaled j) {
          journal.read(j, part);
        } else if (span.source() instanceof Source.Stored) {
          fromStore.add(span);
        } else {
          zero(part);
        }
      }
    } finally {
      mapLock.readLock().unlock();
    }
    for (Span span : fromStore) {
      Source.Stored s = (Source.Stored) span.source();
      ByteBuffer part = slice(dst, base + (int) (span.offset() - offset), (int) span.length());
      if (!onlyLocal) {
        reader.readFully(s.key(), s.offset(), part);
      } else if (!reader.readIfLocal(s.key(), s.offset(), part)) {
        return false;
      }
    }
    return true;
  }

  /** The live table's holes and zeros in the range, neighbours of the same kind merged. */
  List<Extent> extents(long offset, long length) {
    List<Extent> out = new ArrayList<>();
    mapLock.readLock().lock();
    try {
      for (Span span : live.resolve(offset, length)) {
        boolean hole = span.source() instanceof Source.Hole;
        boolean zero = hole || span.source() instanceof Source.Zero;
        Extent last = out.isEmpty() ? null : out.get(out.size() - 1);
        if (last != null && last.hole() == hole && last.zero() == zero) {
          out.set(out.size() - 1, new Extent(last.offset(), last.length() + span.length(), hole, zero));
        } else {
          out.add(new Extent(span.offset(), span.length(), hole, zero));
        }
      }
    } finally {
      mapLock.readLock().unlock();
    }
    return out;
  }

  private static ByteBuffer slice(ByteBuffer dst, int position, int length) {
    ByteBuffer part = dst.duplicate();
    part.limit(position + length).position(position);
    return part.slice();
  }

  private static void zero(ByteBuffer part) {
    while (part.hasRemaining()) {
      part.put(ZEROS, 0, Math.min(ZEROS.length, part.remaining()));
    }
  }
}
