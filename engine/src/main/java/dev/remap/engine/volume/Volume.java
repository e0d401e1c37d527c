package dev.remap.engine.volume;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.cache.ObjectReader;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.journal.JournalRecord;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A served volume: a {@link BlockDevice} whose writes go to the local journal and whose mapping
 * moves to store segments as the {@link Uploader} packs them.
 *
 * <p>Two tables: {@code live} is what clients see (it may point into the journal);
 * {@code stored} is exactly what replaying the store's segments gives (it never points into the
 * journal) and is what checkpoints and snapshots persist.
 *
 * <p>Locking: {@code writeOrder} serialises changes so that journal order and mapping order are
 * the same (replay after a crash then rebuilds the same state); {@code mapLock} guards both
 * tables. Readers hold the read lock while they read journal bytes, and the uploader relocates
 * and retires journal files under the write lock, so a reader never reads a retired file. Store
 * objects are immutable, so store reads happen outside the lock.
 *
 * <p>Ownership: a volume open in several processes (nodes) is owned by one of them at a time
 * ({@link Ownership}). The others are on standby: their first request of any kind asks the owner
 * to hand over, then loads what it left in the store — reads too, because a standby's mapping is
 * as old as its last handover. {@code ownerLock} serialises acquisitions; a handover holds
 * {@code writeOrder}, and writes check ownership under it, so nothing is journaled by a volume
 * that has handed over.
 */
public final class Volume implements BlockDevice, Ownership.Holder {

  /** Loads the volume's state from the store again (after another owner changed it). */
  @FunctionalInterface
  interface Reloader {
    VolumeManager.Loaded load(VolumeMeta meta) throws IOException;
  }

  private static final Duration HANDOVER_DRAIN = Duration.ofMinutes(5);

  private final ObjectReader reader;
  private final Journal journal;
  private final VolumeOptions options;
  private final ReentrantLock writeOrder = new ReentrantLock();
  final ReentrantReadWriteLock mapLock = new ReentrantReadWriteLock();
  final MappingTable live;
  final MappingTable stored;
  final Uploader uploader;
  private final VolumeLock lock;
  private final Ownership ownership;
  private final Reloader reloader;
  private final ReentrantLock ownerLock = new ReentrantLock();
  private final List<Runnable> onAcquired = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** The counters of the layers serving this volume (the NBD export's queue and RAM tier). */
  private final List<java.util.function.Supplier<Usage>> usageSources = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean owner;
  private volatile String fenced;
  private long epoch;
  private volatile VolumeMeta meta;
  private volatile boolean closed;

  /** @param epoch the lease epoch this process owns the volume under, 0 on standby */
  Volume(ObjectStore store, ObjectReader reader, VolumeMeta meta, MappingTable stored, long lastSegment,
      long lastJournalSeq, VolumeOptions options, VolumeLock lock, Ownership ownership, long epoch,
      Reloader reloader) throws IOException {
    this.reader = reader;
    this.lock = lock;
    this.ownership = ownership;
    this.reloader = reloader;
    this.meta = meta;
    this.options = options;
    this.stored = stored;
    this.live = stored.copy();
    this.uploader = new Uploader(this, store, options, lastSegment, lastJournalSeq);
    List<Journal.Appended> replayed = new ArrayList<>();
    this.journal = Journal.open(lock.dir(), options.journalCapacity(),
        options.journalFileSize(), lastJournalSeq, replayed::add);
    for (Journal.Appended appended : replayed) {
      applyLive(appended);
      uploader.enqueue(appended);
    }
    uploader.start(journal);
    if (epoch > 0) {
      this.epoch = epoch;
      this.owner = true;
      ownership.register(meta, epoch, this);
    }
  }

  /** Does this process own the volume now (so that what it caches of it stays true)? */
  public boolean isOwner() {
    return owner;
  }

  /**
   * Runs action each time this process takes the volume (back) from another owner, before it
   * serves anything again: caches above the volume drop what they hold.
   */
  public void countUsage(java.util.function.Supplier<Usage> source) {
    usageSources.add(source);
  }

  /** What the layers above counted (see {@link #countUsage}): published in the volume's lease. */
  @Override
  public Usage usage() {
    Usage total = Usage.ZERO;
    for (java.util.function.Supplier<Usage> source : usageSources) {
      total = total.plus(source.get());
    }
    return total;
  }

  public void onAcquired(Runnable action) {
    onAcquired.add(action);
  }

  /** Takes the volume from its owner if this process is on standby, and loads its state. */
  private void ensureOwner() throws IOException {
    if (owner) {
      return;
    }
    ownerLock.lock();
    try {
      if (owner) {
        return;
      }
      checkOpen();
      long taken = ownership.acquire(meta);
      try {
        lock.ownerEpoch(taken);
        reload();
      } catch (IOException | RuntimeException e) {
        ownership.release(meta, taken);
        throw e;
      }
      epoch = taken;
      onAcquired.forEach(Runnable::run); // before anything is served again
      ownership.register(meta, taken, this);
      owner = true;
    } finally {
      ownerLock.unlock();
    }
  }

  private void reload() throws IOException {
    VolumeManager.Loaded loaded = reloader.load(meta);
    mapLock.writeLock().lock();
    try {
      live.assign(loaded.table());
      stored.assign(loaded.table());
      meta = loaded.meta();
      journal.continueAfter(loaded.journalSeq());
      uploader.continueFrom(loaded.lastSegment(), loaded.journalSeq());
    } finally {
      mapLock.writeLock().unlock();
    }
  }

  /**
   * Another process asked for the volume: everything journaled goes to the store, a checkpoint
   * follows (so the next owner loads quickly), and the lease is marked released. Writers wait
   * meanwhile and then ask for it back.
   */
  @Override
  public void handOver() throws IOException {
    writeOrder.lock();
    try {
      if (!owner || closed) {
        return;
      }
      uploader.drain(HANDOVER_DRAIN);
      uploader.checkpointNow();
      owner = false;
      ownership.release(meta, epoch);
    } finally {
      writeOrder.unlock();
    }
  }

  @Override
  public void lost(String why) {
    fenced = why + "; changes this node had not uploaded yet stay in its journal (" + lock.dir() + ")";
    owner = false;
  }

  /** Is the lease still this process's (asked of the store)? */
  boolean stillOwned() throws IOException {
    return ownership.owns(meta, epoch);
  }

  /** Why this volume stopped, if another owner took it from under it. */
  String fencedReason() {
    return fenced;
  }

  public VolumeMeta meta() {
    return meta;
  }

  public String name() {
    return meta.name();
  }

  @Override
  public long size() {
    return meta.geometry().size();
  }

  @Override
  public int blockSize() {
    return meta.geometry().blockSize();
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    int length = dst.remaining();
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    ensureOwner();
    int base = dst.position();
    List<Span> fromStore = new ArrayList<>();
    mapLock.readLock().lock();
    try {
      for (Span span : live.resolve(offset, length)) {
        ByteBuffer part = slice(dst, base + (int) (span.offset() - offset), (int) span.length());
        if (span.source() instanceof Source.Stored s) {
          if (s.key().startsWith(Journal.KEY_PREFIX)) {
            journal.read(s, part);
          } else {
            fromStore.add(span);
          }
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
      readStore(s, part);
    }
    dst.position(base + length);
  }

  private void readStore(Source.Stored source, ByteBuffer part) throws IOException {
    reader.readFully(source.key(), source.offset(), part);
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    checkOpen();
    checkRange(offset, src.remaining());
    ByteBuffer data = src.duplicate();
    long at = offset;
    while (data.hasRemaining()) {
      int n = Math.min(data.remaining(), options.maxRecord());
      ByteBuffer piece = data.slice();
      piece.limit(n);
      change(JournalRecord.Type.WRITE, at, n, piece);
      data.position(data.position() + n);
      at += n;
    }
    src.position(src.limit());
    if (fua) {
      flush();
    }
  }

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    changeRange(JournalRecord.Type.TRIM, offset, length, fua);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    changeRange(noHole ? JournalRecord.Type.ZERO : JournalRecord.Type.TRIM, offset, length, fua);
  }

  private void changeRange(JournalRecord.Type type, long offset, long length, boolean fua) throws IOException {
    checkOpen();
    checkRange(offset, length);
    long at = offset;
    long end = offset + length;
    while (at < end) {
      int n = (int) Math.min(end - at, 1L << 30);
      change(type, at, n, null);
      at += n;
    }
    if (fua) {
      flush();
    }
  }

  /**
   * Takes writeOrder as the owner: no handover can happen until the caller unlocks it. A
   * handover between the ownership check and the lock asks for the volume back.
   */
  private void lockAsOwner() throws IOException {
    while (true) {
      ensureOwner();
      writeOrder.lock();
      if (owner) {
        return;
      }
      writeOrder.unlock();
    }
  }

  /** Journals one change and maps it, in the same order for both. */
  private void change(JournalRecord.Type type, long offset, int length, ByteBuffer payload) throws IOException {
    lockAsOwner();
    try {
      Journal.Appended appended = journal.append(type, offset, length, payload);
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

  private void applyLive(Journal.Appended appended) {
    JournalRecord r = appended.record();
    Source source = switch (r.type()) {
      case WRITE -> appended.payload();
      case ZERO -> Source.Zero.INSTANCE;
      case TRIM -> Source.Hole.INSTANCE;
    };
    live.put(r.offset(), r.length(), source);
  }

  @Override
  public void flush() throws IOException {
    // On standby there is nothing to flush: the handover moved every change to the store.
    if (owner) {
      journal.sync();
    } else if (fenced != null) {
      throw new IOException(fenced);
    }
  }

  @Override
  public List<Extent> extents(long offset, long length) throws IOException {
    checkRange(offset, length);
    ensureOwner();
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

  /**
   * Waits until every change made so far is in the store (segments written, mapping moved).
   * Snapshots use it so that their manifest references only store objects.
   */
  public void drain(Duration timeout) throws IOException {
    uploader.drain(timeout);
  }

  /** Runs action with writers held off and the store holding every change (a consistent cut). */
  <T> T quiesced(Duration timeout, IoSupplier<T> action) throws IOException {
    lockAsOwner();
    try {
      uploader.drain(timeout);
      mapLock.readLock().lock();
      try {
        return action.get();
      } finally {
        mapLock.readLock().unlock();
      }
    } finally {
      writeOrder.unlock();
    }
  }

  @FunctionalInterface
  interface IoSupplier<T> {
    T get() throws IOException;
  }

  /** Grows the volume; the caller has persisted the new metadata. */
  void grow(VolumeMeta grown) {
    writeOrder.lock();
    mapLock.writeLock().lock();
    try {
      live.resize(grown.geometry().size());
      stored.resize(grown.geometry().size());
      meta = grown;
    } finally {
      mapLock.writeLock().unlock();
      writeOrder.unlock();
    }
  }

  public VolumeStats stats() {
    return new VolumeStats(journal.usedBytes(), uploader.backlogBytes(), uploader.segmentsWritten(),
        uploader.bytesUploaded(), uploader.lastError());
  }

  /** Relocates uploaded ranges from the journal to a segment and applies the segment to stored. */
  void commit(String segmentKey, SegmentFormat.Header header, List<Uploader.Move> moves, long uptoSeq)
      throws IOException {
    mapLock.writeLock().lock();
    try {
      for (Uploader.Move move : moves) {
        live.relocate(move.offset(), move.length(), move.from(), move.to());
      }
      SegmentFormat.apply(header, segmentKey, stored);
      journal.retire(uptoSeq);
    } finally {
      mapLock.writeLock().unlock();
    }
  }

  /**
   * Flushes the journal, uploads what it can within timeout, and stops. What could not be
   * uploaded stays in the durable journal and is replayed at the next open.
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      journal.sync();
      boolean drained = uploader.stop(Duration.ofSeconds(30));
      if (owner && drained) {
        owner = false;
        ownership.release(meta, epoch);
      } else if (owner) {
        // Changes the store lacks stay in the journal and this node's lease stays as it is:
        // reopening here takes it back and replays them.
        ownership.abandon(meta);
      }
    } finally {
      try {
        journal.close();
      } finally {
        lock.close();
      }
    }
  }

  private void checkOpen() throws IOException {
    if (closed) {
      throw new IOException("volume " + name() + " is closed");
    }
    if (fenced != null) {
      throw new IOException(fenced);
    }
  }

  private void checkRange(long offset, long length) {
    if (offset < 0 || length < 0 || offset + length > size()) {
      throw new IllegalArgumentException("range offset=" + offset + " length=" + length
          + " is outside volume " + name() + " of size " + size());
    }
  }

  private static ByteBuffer slice(ByteBuffer dst, int position, int length) {
    ByteBuffer part = dst.duplicate();
    part.limit(position + length).position(position);
    return part.slice();
  }

  private static final byte[] ZEROS = new byte[64 << 10];

  private static void zero(ByteBuffer part) {
    while (part.hasRemaining()) {
      part.put(ZEROS, 0, Math.min(ZEROS.length, part.remaining()));
    }
  }
}
