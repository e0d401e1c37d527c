package dev.remap.engine.volume;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.core.Span;
import java.util.ArrayList;
import java.util.List;

/**
 * A volume's stored table (exactly what replaying the store's segments gives), brought up to date
 * when it is read. Only checkpoints, the cleaner and snapshots read it, and a checkpoint comes
 * once in 64 segments, while a segment is committed every few thousand 4 KiB writes: so each
 * committed segment's changes are queued, and everything queued is applied in one pass per chunk
 * by the next reader, instead of a pass per segment under the map's write lock (a third of the
 * mapping work of every write). Each chunk's puts from many segments are cut to what the last of
 * them covers ({@link MappingTable#putAll}), so the pass costs about what one segment's did.
 * At most {@link #MOST_QUEUED} changes wait, to bound the memory between readers.
 *
 * <p>Locking: {@link #queue}, {@link #assign} and {@link #resize} are called under the volume's
 * map write lock, {@link #current} under its read or write lock. Applying the queue changes the
 * table, which readers under the read lock may be reading; but nothing is queued while any read
 * lock is held, so only the first {@code current} after a commit applies anything, and it does so
 * before its caller reads. The monitor makes two first readers apply once.
 */
final class StoredTable {

  static final int MOST_QUEUED = 1 << 16;

  private final MappingTable table;
  private final List<Span> queued = new ArrayList<>();

  StoredTable(MappingTable table) {
    this.table = table;
  }

  /** A committed segment's changes, to be applied after those queued before. */
  synchronized void queue(SegmentFormat.Header header, String segmentKey) {
    queued.addAll(SegmentFormat.changes(header, segmentKey));
    if (queued.size() >= MOST_QUEUED) {
      applyQueued();
    }
  }

  /** The table with every committed segment applied. */
  synchronized MappingTable current() {
    applyQueued();
    return table;
  }

  /** Takes another owner's table in place of this one (what is queued is in it already). */
  synchronized void assign(MappingTable other) {
    queued.clear();
    table.assign(other);
  }

  synchronized void resize(long size) {
    applyQueued();
    table.resize(size);
  }

  /** Changes waiting (for tests). */
  synchronized int queuedChanges() {
    return queued.size();
  }

  private void applyQueued() {
    if (!queued.isEmpty()) {
      table.putAll(queued);
      queued.clear();
    }
  }
}
