package dev.remap.engine.volume;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Replays a volume's segments after its checkpoint onto the checkpoint's table, as an open does,
 * and recovers from a crash or power cut that left segments written lazily but never synced.
 *
 * <p>On a store that writes segments without fsync ({@link ObjectStore#defersDurability}), only
 * segments up to the volume's durable marker ({@link StoreLayout#synced}) are durable. A later one
 * is dropped, with every one after it, even if it looks whole: it holds journal records up to a
 * number the journal may not have kept (the barrier syncs the journal before it moves the marker;
 * nothing syncs it per segment), and kept, it would make the open number new records on from
 * there, after a gap in the journal's last file that the replay after the next crash takes for a
 * torn tail, dropping flushed writes after it. The owner deletes them, so that their numbers are
 * written again with put-if-absent, and the journal, which keeps every record not in a durable
 * segment (its files are retired only after a barrier), replays from the marker's journal number:
 * exactly what survived in the journal, in its order. A segment written by a build that synced every segment (format
 * version 1, {@link SegmentFormat.Header#syncedWhenWritten}) is kept where it is whole.
 *
 * <p>Only headers are read: after a crash the segments after the marker are at most what the
 * barrier bounds leave unsynced (a quarter of the journal, or {@code syncDelay} of uploads), and
 * their writes are replayed from the journal and uploaded again. After a close or a handover the
 * marker covers every segment. A process that does not own the volume (standby) deletes nothing
 * and loads only what is durable; it loads the volume again, as its owner, when it takes it over.
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
   * @param owner whether this process owns the volume (and so may delete what no barrier covered)
   */
  Replayed replay(VolumeMeta meta, MappingTable table, long lastSegment, long journalSeq, boolean owner)
      throws IOException {
    long durable = durableSegment(meta.id());
    List<ObjectInfo> segments = store.list(StoreLayout.segmentPrefix(meta.id()));
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
          // A gap up to the marker is a segment the cleaner emptied and collection deleted.
          if (seq != last + 1 && last + 1 > durable) {
            throw new SegmentFormat.DamagedSegmentException("segment " + StoreLayout.segment(meta.id(), last + 1)
                + " is missing before " + key);
          }
          header = readHeader(key);
          if (!header.syncedWhenWritten()) {
            throw new SegmentFormat.DamagedSegmentException(key + " was not made durable by a barrier");
          }
          // A whole version 1 segment was fsynced before its build went on.
          SegmentFormat.verify(ByteBuffer.wrap(store.get(key)), key);
        } catch (SegmentFormat.DamagedSegmentException | NoSuchObjectException e) {
          drop(meta, segments.subList(i, segments.size()), e, owner);
          break;
        }
      }
      SegmentFormat.apply(header, key, table);
      last = seq;
      journal = Math.max(journal, header.lastJournalSeq());
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
