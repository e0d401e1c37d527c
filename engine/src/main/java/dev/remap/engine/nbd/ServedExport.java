package dev.remap.engine.nbd;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.cache.RamCache;
import dev.remap.engine.cache.TierCounters;
import dev.remap.engine.metrics.VolumeMeters;
import dev.remap.engine.queue.RequestQueue;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeStats;
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
  /** The volume or snapshot at the bottom of the stack. */
  private final BlockDevice base;
  /** The device below the queue: block status is answered from it without queueing. */
  private final BlockDevice top;
  private final RamCache cache;
  private final RequestQueue queue;
  private final VolumeMeters meters;

  ServedExport(ExportInfo info, BlockDevice base, BlockDevice top, RamCache cache, RequestQueue queue,
      VolumeMeters meters) {
    this.info = info;
    this.base = base;
    this.top = top;
    this.cache = cache;
    this.queue = queue;
    this.meters = meters;
  }

  VolumeMeters meters() {
    return meters;
  }

  /** What the stack's layers have counted, for the export's meters (read at each scrape). */
  VolumeMeters.StackFigures figures() {
    TierCounters.Snapshot ram = cache == null ? new TierCounters.Snapshot("ram", 0, 0, 0, 0, 0) : cache.counters();
    if (!(base instanceof Volume volume)) {
      return new VolumeMeters.StackFigures(queue.counters().mergedAway(), ram.hits(), ram.misses(), ram.evictions(),
          ram.usedBytes(), ram.capacityBytes(), 0, 0, 0, 0, 0, 0, 0);
    }
    VolumeStats stats = volume.stats();
    return new VolumeMeters.StackFigures(queue.counters().mergedAway(), ram.hits(), ram.misses(), ram.evictions(),
        ram.usedBytes(), ram.capacityBytes(), stats.diskHits(), stats.diskMisses(), stats.journalBytes(),
        stats.uploadBacklogBytes(), stats.segmentsWritten(), stats.bytesUploaded(), stats.storeErrors(),
        VolumeMeters.SpaceFigures.of(stats));
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
