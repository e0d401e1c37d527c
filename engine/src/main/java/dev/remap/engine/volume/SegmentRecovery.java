package dev.remap.engine.volume;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Replays a volume's segments after its checkpoint onto the checkpoint's table, as an open does,
 * and recovers from a power cut that tore or lost segments written lazily.
 *
 * <p>On a store that writes segments without fsync ({@link ObjectStore#defersDurability}), only
 * segments up to the volume's durable marker ({@link StoreLayout#synced}) are known whole; a later
 * one may be missing, cut short or hold wrong bytes after a power cut, so its data is read and
 * checked ({@link SegmentFormat#verify}). At the first one that fails (or is missing), that segment
 * and every later one are dropped: the owner deletes them, so that their numbers are written again
 * with put-if-absent, and the journal, which keeps every record not in a durable segment (its files
 * are retired only after a barrier), replays from the last good segment's journal number. The
 * segments that verified are synced and the marker moved past them before anything is retired.
 *
 * <p>Only segments after the marker are read whole: at most what the barrier bounds leave unsynced
 * (a quarter of the journal, or {@code syncDelay} of uploads), and only after a crash: after a
 * close or a handover the marker covers every segment and an open reads headers alone. Measured
 * (default options, 1 MiB writes, local disk): a crash leaving 25 unsynced 8 MiB segments made
 * the next open take 0.8 s (1.0 s with a cold page cache), this check and the replayed journal's
 * scan together, against 0.1 s for the open after it. Verifying every segment after the
 * checkpoint instead would read up to {@code checkpointEvery} segments (512 MiB by default) at
 * every open. A process that does not own
 * the volume (standby) deletes nothing: it stops at the first bad segment, and recovers when it
 * takes the volume over.
 */
final class SegmentRecovery {

  private static final System.Logger LOG = System.getLogger(SegmentRecovery.class.getName());

  /** Where the replay ended: the last segment applied and the newest journal number it holds. */
  record Replayed(long lastSegment, long journalSeq) {}

  private final ObjectStore store;

  SegmentRecovery(ObjectStore store) {
    this.store = store;
  }

  /**
   * Applies the volume's segments after lastSegment (its checkpoint's) to table.
   *
   * @param owner whether this process owns the volume (and so may delete and sync)
   */
  Replayed replay(VolumeMeta meta, MappingTable table, long lastSegment, long journalSeq, boolean owner)
      throws IOException {
    long durable = durableSegment(meta.id());
    List<ObjectInfo> segments = store.list(StoreLayout.segmentPrefix(meta.id()));
    List<String> verified = new ArrayList<>();
    long last = lastSegment;
    long journal = journalSeq;
    for (int i = 0; i < segments.size(); i++) {
      String key = segments.get(i).key();
      long seq = StoreLayout.seqOf(key);
      if (seq <= last) {
        continue;
      }
      SegmentFormat.Header header;
      if (seq <= durable) {
        header = readHeader(key);
      } else {
        try {
          if (seq != last + 1 && last + 1 > durable) {
            throw new SegmentFormat.DamagedSegmentException("segment " + StoreLayout.segment(meta.id(), last + 1)
                + " is missing before " + key);
          }
          header = SegmentFormat.verify(ByteBuffer.wrap(store.get(key)), key);
        } catch (SegmentFormat.DamagedSegmentException | NoSuchObjectException e) {
          drop(meta, segments.subList(i, segments.size()), e, owner);
          break;
        }
        verified.add(key);
      }
      SegmentFormat.apply(header, key, table);
      last = seq;
      journal = Math.max(journal, header.lastJournalSeq());
    }
    if (owner && !verified.isEmpty()) {
      // Intact now, but perhaps only in the page cache (a crash of the process, not of the
      // machine): durable before the journal holding their records may be retired.
      store.syncLazy(verified);
      store.put(StoreLayout.synced(meta.id()), SegmentWriter.encodeMarker(last));
    }
    return new Replayed(last, journal);
  }

  /** The newest segment the volume's marker says is durable; every one on a store that writes durably. */
  private long durableSegment(String id) throws IOException {
    if (!store.defersDurability()) {
      return Long.MAX_VALUE;
    }
    String key = StoreLayout.synced(id);
    try {
      return SegmentWriter.decodeMarker(store.get(key), key);
    } catch (NoSuchObjectException e) {
      return 0; // never synced by a barrier (or written by a version that fsynced every segment)
    }
  }

  private void drop(VolumeMeta meta, List<ObjectInfo> tail, IOException why, boolean owner) throws IOException {
    List<String> keys = tail.stream().map(ObjectInfo::key).toList();
    if (!owner) {
      LOG.log(Level.INFO, "volume {0}: not reading {1} segments from {2} on ({3}); its owner recovers them",
          meta.name(), keys.size(), keys.get(0), why.getMessage());
      return;
    }
    LOG.log(Level.WARNING, "volume {0}: dropping {1} segments not synced before a crash, from {2} on ({3}); "
        + "the journal replays their changes", meta.name(), keys.size(), keys.get(0), why.getMessage());
    store.deleteAll(keys);
  }

  private SegmentFormat.Header readHeader(String key) throws IOException {
    ByteBuffer probe = ByteBuffer.allocate(SegmentFormat.HEADER_PROBE);
    store.read(key, 0, probe);
    probe.flip();
    int length = SegmentFormat.announcedHeaderLength(probe, key);
    if (length > probe.limit()) {
      probe = ByteBuffer.allocate(length);
      store.read(key, 0, probe);
      probe.flip();
    }
    return SegmentFormat.parse(probe, key);
  }
}
