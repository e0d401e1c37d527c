package dev.remap.engine.nbd;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.cache.RamCache;
import dev.remap.engine.queue.RequestQueue;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The open stack of one export, shared by every connection to it:
 * <pre>
 *   connection ──tryRead──▶ RamCache (hit: answered by the connection's reader thread at once)
 *        │ miss, and every change
 *        ▼
 *   RequestQueue ──workers──▶ RamCache ──▶ Volume (or SnapshotDevice)
 * </pre>
 * The RAM cache sits below the queue, not above it, because its write path is synchronous
 * (mark pages, write through, drop pages) and has no asynchronous form: above the queue every
 * in-flight write would hold a thread while it waits. Below it, the transfer workers (which are
 * there to block) run its miss fills and invalidations, while the front-end still checks it
 * before anything is queued, which is what the design asks of the RAM tier.
 */
final class ServedExport implements Negotiation.Opened {

  private final ExportInfo info;
  /** The device below the queue: block status is answered from it without queueing. */
  private final BlockDevice top;
  private final RamCache cache;
  private final RequestQueue queue;

  ServedExport(ExportInfo info, BlockDevice top, RamCache cache, RequestQueue queue) {
    this.info = info;
    this.top = top;
    this.cache = cache;
    this.queue = queue;
  }

  @Override
  public ExportInfo info() {
    return info;
  }

  RequestQueue queue() {
    return queue;
  }

  /** Fills dst from RAM if every byte is cached there; false (dst untouched) otherwise. */
  boolean tryRead(long offset, ByteBuffer dst) {
    return cache != null && cache.tryRead(offset, dst);
  }

  /** The RAM tier's counters, if this export has a RAM cache. */
  java.util.Optional<dev.remap.engine.cache.TierCounters.Snapshot> ramCounters() {
    return cache == null ? java.util.Optional.empty() : java.util.Optional.of(cache.counters());
  }

  /** Allocation status, answered from the mapping (no queueing: it is memory only). */
  java.util.List<BlockDevice.Extent> extents(long offset, long length) throws IOException {
    return top.extents(offset, length);
  }

  /** Lets queued requests finish, then closes the cache and the volume (which syncs its journal). */
  void close() throws IOException {
    queue.close();
  }
}
