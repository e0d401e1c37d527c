package dev.remap.engine.export;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.Capabilities;
import dev.remap.engine.block.PagedDevice;
import dev.remap.engine.cache.RamCache;
import dev.remap.engine.cache.TierCounters;
import dev.remap.engine.core.RequestMerger;
import dev.remap.engine.metrics.VolumeMeters;
import dev.remap.engine.queue.RequestQueue;
import dev.remap.engine.volume.Usage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The one stack every export is served through, built the same way on whatever base a source
 * opened:
 * <pre>
 *   connection ──tryRead──▶ RamCache (hit: answered by the connection's reader thread at once)
 *        │ ──writeNow / readNow──▶ (the device below writes, or reads, locally only:
 *        │                          run by the reader thread itself, past the queue)
 *        │ miss, and every other change
 *        ▼
 *   RequestQueue ──workers──▶ [GrowthRoom] ──▶ RamCache ──▶ base (a volume, a snapshot, ...)
 * </pre>
 * The RAM cache sits below the queue, not above it, because its write path is synchronous
 * (mark pages, write through, drop pages) and has no asynchronous form: above the queue every
 * in-flight write would hold a thread while it waits. Below it, the transfer workers (which are
 * there to block) run its miss fills and invalidations, while the front-end still checks it
 * before anything is queued, which is what the design asks of the RAM tier.
 *
 * <p>As a {@link BlockDevice} the stack does exactly what a front-end does with it (a read tries
 * the RAM tier first, everything else goes through the queue), so that the contract suites test
 * the stack the server serves.
 */
public final class ExportStack implements BlockDevice {

  private final String name;
  private final ExportBase base;
  /** The device below the queue: block status is answered from it without queueing. */
  private final BlockDevice top;
  private final RamCache cache;
  private final RequestQueue queue;

  private ExportStack(String name, ExportBase base, BlockDevice top, RamCache cache, RequestQueue queue) {
    this.name = name;
    this.base = base;
    this.top = top;
    this.cache = cache;
    this.queue = queue;
  }

  /** Builds the stack on base as spec says; on failure base is closed. */
  public static ExportStack build(String name, ExportBase base, StackSpec spec) throws IOException {
    BlockDevice device = base.device();
    try {
      RamCache cache = null;
      // A paged device's pages are memory already: a RAM tier above them would only copy them.
      if (spec.ramCacheBytes() > 0 && !(device instanceof PagedDevice)) {
        int page = Math.max(spec.ramPageSize(), device.blockSize());
        cache = new RamCache(device, spec.ramCacheBytes(), page, base.cacheValid());
        base.onInvalidate().accept(cache::clear);
      }
      BlockDevice top = cache != null ? cache : device;
      long advertised = advertisedSize(device.capabilities(), device.size(), spec.growthRoom());
      if (advertised > device.size()) {
        top = new GrowthRoom(name, top, advertised);
      }
      RequestQueue queue = new RequestQueue(top, name, spec.workers(), spec.queueCapacity(), spec.maxMerged());
      RamCache ram = cache;
      base.usage().accept(() -> usage(queue.counters(), ram));
      return new ExportStack(name, base, top, cache, queue);
    } catch (RuntimeException e) {
      device.close();
      throw e;
    }
  }

  /** The size an export advertises: its device's, or with growth room the largest it may grow to. */
  public static long advertisedSize(Capabilities capabilities, long size, boolean growthRoom) {
    return growthRoom ? Math.max(size, capabilities.growthLimit()) : size;
  }

  public String name() {
    return name;
  }

  /**
   * The base device, when its pages may be read into and sent from directly ({@link PagedDevice}):
   * a front-end then serves reads and writes through it on the connection's own thread, past the
   * queue, without copying a payload.
   */
  public Optional<PagedDevice> paged() {
    return base.device() instanceof PagedDevice p ? Optional.of(p) : Optional.empty();
  }

  /** Fills dst from RAM if every byte is cached there; false (dst untouched) otherwise. */
  public boolean tryRead(long offset, ByteBuffer dst) {
    return cache != null && cache.tryRead(offset, dst);
  }

  public CompletableFuture<Void> submitRead(long offset, ByteBuffer dst) {
    return queue.submitRead(offset, dst);
  }

  /**
   * Whether plain writes may be run on the front-end's own thread ({@link #writeNow}): the device
   * below the queue only journals them locally, so handing them to a worker would cost a thread
   * switch per request and gain nothing.
   */
  public boolean writesOnCaller() {
    return !top.isReadOnly() && top.writesAreLocal();
  }

  /**
   * Writes a batch (no FUA) on the calling thread, past the queue (only when
   * {@link #writesOnCaller}); returns how many were written, as {@link BlockDevice#writeAll}.
   */
  public int writeNow(long[] offsets, ByteBuffer[] payloads, int count) throws IOException {
    long[] lengths = new long[count];
    for (int i = 0; i < count; i++) {
      lengths[i] = payloads[i].remaining();
    }
    int done = top.writeAll(offsets, payloads, count);
    long written = 0;
    for (int i = 0; i < done; i++) {
      written += lengths[i];
    }
    queue.countServedElsewhere(RequestMerger.Kind.WRITE, done, written);
    return done;
  }

  /** Whether reads may be run on the front-end's own thread ({@link #readNow}): they never wait on a network. */
  public boolean readsOnCaller() {
    return top.readsAreLocal();
  }

  /**
   * Reads on the calling thread, past the queue (only when {@link #readsOnCaller}), after the
   * caller found the range not all in RAM ({@link #tryRead}).
   */
  public void readNow(long offset, ByteBuffer dst) throws IOException {
    long length = dst.remaining();
    top.read(offset, dst);
    queue.countServedElsewhere(RequestMerger.Kind.READ, 1, length);
  }

  /**
   * Reads on the calling thread if this read takes local work only (RAM, the journal, a local-disk
   * tier holding its blocks: {@link BlockDevice#readIfLocal}); false, to be queued, if it does not.
   * Called after the caller found the range not all in RAM ({@link #tryRead}).
   */
  public boolean readIfLocal(long offset, ByteBuffer dst) throws IOException {
    long length = dst.remaining();
    if (!top.readIfLocal(offset, dst)) {
      return false;
    }
    queue.countServedElsewhere(RequestMerger.Kind.READ, 1, length);
    return true;
  }

  public CompletableFuture<Void> submitWrite(long offset, ByteBuffer src, boolean fua) {
    return queue.submitWrite(offset, src, fua);
  }

  /** A trim (zero false) or a write of zeroes (zero true: noHole). */
  public CompletableFuture<Void> submitDiscard(long offset, long length, boolean zero, boolean fua) {
    return queue.submitDiscard(offset, length, zero, fua);
  }

  /**
   * Whether a FLUSH may be answered at once ({@link BlockDevice#flushedAlready}): asked of the
   * base itself, since nothing between the queue and it holds a write once it returned (the RAM
   * tier writes through).
   */
  @Override
  public boolean flushedAlready() {
    return base.device().flushedAlready();
  }

  public CompletableFuture<Void> submitFlush() {
    return queue.submitFlush();
  }

  /** What went through the stack's queue (RAM hits answered by {@link #tryRead} do not). */
  public RequestQueue.Counters requestCounters() {
    return queue.counters();
  }

  /** The RAM tier's counters, if this stack has one. */
  public Optional<TierCounters.Snapshot> ramCounters() {
    return cache == null ? Optional.empty() : Optional.of(cache.counters());
  }

  /** What the stack's layers have counted, for the export's meters (read at each scrape). */
  public VolumeMeters.StackFigures figures() {
    return VolumeMeters.StackFigures.of(queue.counters().mergedAway(), cache == null ? null : cache.counters(),
        base.figures().get());
  }

  @Override
  public long size() {
    return top.size();
  }

  @Override
  public int blockSize() {
    return top.blockSize();
  }

  @Override
  public boolean isReadOnly() {
    return top.isReadOnly();
  }

  @Override
  public Capabilities capabilities() {
    return base.device().capabilities();
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    if (!tryRead(offset, dst.duplicate())) {
      queue.read(offset, dst);
      return;
    }
    dst.position(dst.limit());
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    queue.write(offset, src, fua);
  }

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    queue.trim(offset, length, fua);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    queue.writeZeroes(offset, length, noHole, fua);
  }

  @Override
  public void flush() throws IOException {
    queue.flush();
  }

  /** Allocation status, answered from the mapping (no queueing: it is memory only). */
  @Override
  public List<Extent> extents(long offset, long length) throws IOException {
    return top.extents(offset, length);
  }

  /** Lets queued requests finish, then closes the cache and the base (a volume syncs its journal). */
  @Override
  public void close() throws IOException {
    queue.close();
  }

  /** The stack's counters as the base's usage: requests past the RAM front, and RAM hits. */
  private static Usage usage(RequestQueue.Counters queue, RamCache ram) {
    int read = RequestMerger.Kind.READ.ordinal();
    int write = RequestMerger.Kind.WRITE.ordinal();
    long hits = 0;
    long misses = 0;
    if (ram != null) {
      var tier = ram.counters();
      hits = tier.hits();
      misses = tier.misses();
    }
    return new Usage(queue.requests()[read], queue.requests()[write], queue.bytes()[read], queue.bytes()[write],
        hits, misses, 0, 0);
  }
}
