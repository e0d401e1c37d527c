package dev.remap.engine.volume;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.cache.TierCounters;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.journal.JournalRecord;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
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
 * <p>Locking (the order of every lock of the package is in package-info.java): {@code writeOrder}
 * serialises changes so that journal order and mapping order are the same (replay after a crash
 * then rebuilds the same state); {@code mapLock} guards both tables. Readers ({@link VolumeReads})
 * hold the read lock while they read journal bytes, and the uploader relocates and takes journal
 * files out of the journal under the write lock, so a reader never reads a retired file; the files
 * are unlinked after the lock is let go. Store objects are immutable, so store reads happen outside
 * the lock; a segment the cleaner emptied may be collected under a read that resolved it just
 * before, which then resolves again. The {@link SegmentCleaner} runs on the uploader's thread and
 * takes the map lock as the uploader does (read to copy {@code stored}, write to commit). Writers
 * ({@link VolumeWrites}) hold {@code writeOrder} and take the write lock to map each change.
 *
 * <p>Ownership: a volume open in several processes (nodes) is owned by one of them at a time
 * ({@link Ownership}); the others are on standby until their first request. Which of the two
 * this instance is, and how writes and handovers share {@code writeOrder}, is its {@link Tenure}.
 */
public final class Volume implements BlockDevice, Ownership.Holder {

  private final VolumeReader reader;
  private final Journal journal;
  /** The read path over {@code live}, the journal and the store reader, under {@code mapLock}. */
  private final VolumeReads reads;
  /** The write path: journal, then {@code live}, then the upload queue, under {@code writeOrder}. */
  private final VolumeWrites writes;
  /**
   * Reads never wait on a network nor fill a tier: the store is this machine's own files and no
   * local-disk tier sits in front (a miss there copies a whole block before answering, which a
   * connection's thread must not do one request at a time: 0.02x of nbdkit-file on 4 KiB random
   * reads of the cold target, against 0.33x through the workers).
   */
  private final boolean readsLocal;
  final ReentrantLock writeOrder = new ReentrantLock();
  final ReentrantReadWriteLock mapLock = new ReentrantReadWriteLock();
  final MappingTable live;
  final StoredTable stored;
  final Uploader uploader;
  private final SegmentCleaner cleaner;
  private final VolumeLock lock;
  final Tenure tenure;
  private volatile VolumeMeta meta;
  volatile boolean closed;
  private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();

  /** @param epoch the lease epoch this process owns the volume under, 0 on standby */
  Volume(ObjectStore store, VolumeReader reader, VolumeMeta meta, MappingTable stored, long lastSegment,
      long lastJournalSeq, VolumeOptions options, VolumeLock lock, Ownership ownership, long epoch,
      Tenure.Reloader reloader, Runnable collectSoon) throws IOException {
    this.reader = reader;
    this.readsLocal = store.isLocal() && !reader.hasDiskTier();
    this.lock = lock;
    // Before the uploader starts: its thread asks whether the volume was fenced or is still owned.
    this.tenure = new Tenure(new VolumeTenureHost(this), ownership, lock, reloader, epoch);
    this.meta = meta;
    this.stored = new StoredTable(stored);
    this.live = stored.copy();
    this.uploader = new Uploader(new VolumeUploadHost(this), store, options, lastSegment, lastJournalSeq);
    this.cleaner = new SegmentCleaner(new VolumeCleanerTarget(this, reader, collectSoon), store, options.cleaning(),
        options.segmentTarget());
    uploader.cleanWith(cleaner);
    List<Journal.Appended> replayed = new ArrayList<>();
    this.journal = Journal.open(lock.dir(), options.journalCapacity(),
        options.journalFileSize(), lastJournalSeq, replayed::add);
    this.reads = new VolumeReads(mapLock, live, journal, reader);
    this.writes = new VolumeWrites(tenure, writeOrder, journal, mapLock, live, uploader, options.maxRecord());
    for (Journal.Appended appended : replayed) {
      writes.replayed(appended);
    }
    uploader.start(journal);
    tenure.begin();
  }

  /** Does this process own the volume now (so that what it caches of it stays true)? */
  public boolean isOwner() {
    return tenure.isOwner();
  }

  /** Adds the counters of a layer serving this volume to what its lease publishes. */
  public void countUsage(java.util.function.Supplier<Usage> source) {
    tenure.countUsage(source);
  }

  /** What the layers above counted (see {@link #countUsage}): published in the volume's lease. */
  @Override
  public Usage usage() {
    return tenure.usage();
  }

  /**
   * Runs action each time this process takes the volume (back) from another owner, before it
   * serves anything again: caches above the volume drop what they hold.
   */
  public void onAcquired(Runnable action) {
    tenure.onAcquired(action);
  }

  /** Puts what another owner left in the store in place of this volume's state. */
  void reload(VolumeManager.Loaded loaded) throws IOException {
    mapLock.writeLock().lock();
    try {
      live.assign(loaded.table());
      stored.assign(loaded.table());
      meta = loaded.meta();
      journal.continueAfter(loaded.journalSeq());
      uploader.continueFrom(loaded.lastSegment(), loaded.journalSeq());
      cleaner.restart();
    } finally {
      mapLock.writeLock().unlock();
    }
  }

  /** Another process asked for the volume (see {@link Tenure#handOver}). */
  @Override
  public void handOver() throws IOException {
    tenure.handOver();
  }

  @Override
  public void lost(String why) {
    if (uploader != null) { // lost while being made
      uploader.writer().ownGarbage().forget();
    }
    tenure.lost(why);
  }

  /** What this volume's owner knows is dead among its segments once unreferenced. */
  OwnGarbage ownGarbage() {
    return uploader.writer().ownGarbage();
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
  public dev.remap.engine.block.Capabilities capabilities() {
    return capabilitiesOf(meta.geometry());
  }

  /** A volume's: writable, and growable to its geometry's largest size (resize works while it is open). */
  public static dev.remap.engine.block.Capabilities capabilitiesOf(dev.remap.engine.core.Geometry geometry) {
    return dev.remap.engine.block.Capabilities.writable(geometry.size())
        .growingTo(Math.max(geometry.size(), geometry.maxSize()));
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    checkRange(offset, dst.remaining());
    if (!dst.hasRemaining()) {
      return;
    }
    tenure.ensureOwner();
    reads.read(offset, dst);
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    checkOpen();
    checkRange(offset, src.remaining());
    writes.write(offset, src);
    if (fua) {
      flush();
    }
  }

  /**
   * Writes a batch as one journal append (one gathered write), mapped under one acquisition of
   * each lock, and queued for upload together: what a connection's reader thread hands over when
   * a read of the socket brought many small writes. Same journal and mapping order as one by one.
   */
  @Override
  public int writeAll(long[] offsets, ByteBuffer[] payloads, int count) throws IOException {
    checkOpen();
    for (int i = 0; i < count; i++) {
      checkRange(offsets[i], payloads[i].remaining());
      if (!writes.fitsOneRecord(payloads[i])) {
        return BlockDevice.super.writeAll(offsets, payloads, count); // split as write() does
      }
    }
    return writes.writeAll(offsets, payloads, count);
  }

  /** Writes go to the local journal only (the upload to the store comes later, on its own thread). */
  @Override
  public boolean writesAreLocal() {
    return true;
  }

  /** Reads come from the journal and the store's objects: local when the store is a local folder. */
  @Override
  public boolean readsAreLocal() {
    return readsLocal;
  }

  /** Reads now if the bytes are in the journal, or in the local-disk tier (none fetched from the store). */
  @Override
  public boolean readIfLocal(long offset, ByteBuffer dst) throws IOException {
    if (readsLocal) {
      read(offset, dst);
      return true;
    }
    checkRange(offset, dst.remaining());
    if (!dst.hasRemaining()) {
      return true;
    }
    tenure.ensureOwner();
    return reads.readIfLocal(offset, dst);
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
    writes.changeRange(type, offset, length);
    if (fua) {
      flush();
    }
  }

  /**
   * True when a flush now would wait for nothing: this node owns the volume, no barrier is due
   * for records retired before their segments were durable, and a sync already completed covers
   * every record journaled so far (every write answered so far is journaled). Then the FLUSH is
   * recorded as one (its records stay in the journal until a barrier) and answered at once: under
   * a client that sends FLUSHes after most writes, 40% of the journal's syncs found everything
   * synced already, after queueing behind other FLUSHes (docs/BENCHMARKS.md, "What job 6 sends").
   */
  @Override
  public boolean flushedAlready() {
    if (!tenure.isOwner()) {
      return false;
    }
    long seq = journal.lastSeq();
    // The journal first: when it is not synced the FLUSH is queued, and the gate records it then
    // (asking the gate records a FLUSH, which a FLUSH that is not answered here need not do twice).
    return journal.syncedThrough(seq) && uploader.flushingWithoutBarrier(seq);
  }

  @Override
  public void flush() throws IOException {
    // On standby there is nothing to flush: the handover moved every change to the store.
    if (tenure.isOwner()) {
      uploader.flushing(journal.lastSeq());
      journal.sync();
    } else if (tenure.fencedReason() != null) {
      throw new IOException(tenure.fencedReason());
    }
  }

  @Override
  public List<Extent> extents(long offset, long length) throws IOException {
    checkRange(offset, length);
    tenure.ensureOwner();
    return reads.extents(offset, length);
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
    tenure.lockAsOwner();
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

  /** When a client last changed the volume (System.nanoTime), 0 if never since open. */
  long lastWriteNanos() {
    return writes.lastWriteNanos();
  }

  /**
   * Why writes fail for want of space now (the journal's disk, or the store, is full), or null.
   * Reads go on meanwhile; writes resume by themselves once space is freed.
   */
  public String noSpace() {
    String local = writes.journalFull();
    String store = uploader.storeFull();
    return local != null ? local : store;
  }

  /** Published in the volume's lease: the cleaner's last measurement and whether writes lack space. */
  @Override
  public SpaceReport space() {
    boolean measured = cleaner.space() != SegmentCleaner.Space.UNKNOWN; // read first: stats() then has it
    return SpaceReport.of(stats(), measured, System.currentTimeMillis());
  }

  public VolumeStats stats() {
    TierCounters.Snapshot disk = reader.disk();
    SegmentCleaner.Space space = cleaner.space();
    return new VolumeStats(journal.usedBytes(), uploader.backlogBytes(), uploader.writer().segmentsWritten(),
        uploader.writer().bytesUploaded(), uploader.failures() + reader.failures(), disk.hits(), disk.misses(),
        uploader.lastError(), space.liveBytes(), space.storedBytes(), uploader.dataBytesUploaded(),
        cleaner.cleanedBytes(), noSpace());
  }

  /**
   * Relocates uploaded ranges from the journal to a segment and queues the segment for stored
   * ({@link StoredTable}: applied when a checkpoint, the cleaner or a snapshot reads it).
   * The journal keeps their records until the segment is durable: the uploader retires it then
   * ({@link UploadHost#retire}).
   */
  void commit(String segmentKey, SegmentFormat.Header header, List<Uploader.Move> moves) {
    // One pass per chunk for the whole segment, not one chunk copy per journaled write, worked out
    // before the lock: writers wait for the lock only while the results are put in (and the few
    // chunks a write changed meanwhile are relocated again), not for the whole segment's matching.
    MappingTable.PreparedRelocations prepared = live.prepareRelocations(moves.stream()
        .map(move -> new MappingTable.Relocation(move.offset(), move.length(), move.from(), move.to()))
        .toList());
    mapLock.writeLock().lock();
    try {
      live.install(prepared);
      stored.queue(header, segmentKey);
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
    if (!closing.compareAndSet(false, true)) {
      return; // closed already, or being closed by another thread
    }
    closed = true;
    try {
      journal.sync();
      tenure.close(uploader.stop(Duration.ofSeconds(30)));
    } finally {
      try {
        journal.close();
      } finally {
        lock.close();
      }
    }
  }

  void checkOpen() throws IOException {
    if (closed) {
      throw dev.remap.engine.block.DeviceException.closed("volume " + name() + " is closed");
    }
    if (tenure.fencedReason() != null) {
      throw new IOException(tenure.fencedReason());
    }
  }

  private void checkRange(long offset, long length) {
    if (offset < 0 || length < 0 || offset + length > size()) {
      throw new IllegalArgumentException("range offset=" + offset + " length=" + length
          + " is outside volume " + name() + " of size " + size());
    }
  }
}
