package dev.remap.engine.volume;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.journal.JournalRecord;
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
 * and recovers from a crash or power cut that left segments written lazily but never synced.
 *
 * <p>On a store that writes segments without fsync ({@link ObjectStore#defersDurability}), only
 * segments up to the volume's durable marker ({@link StoreLayout#synced}) are durable. The owner
 * reads each later one whole and checks its data ({@link SegmentFormat#verify}): the whole ones,
 * in order, are kept, synced and covered by the marker before the volume serves (after a SIGKILL
 * every one is whole: the page cache kept them, and with them the writes no FLUSH covered, which
 * the journal may have let go of already); the first torn or missing one is dropped with every
 * one after it (what a power cut leaves), deleted so that their numbers are written again with
 * put-if-absent, and the journal replays from the last kept segment's journal number. Records
 * the journal still holds are then replayed in their order; where a kept segment holds numbers
 * past what the journal kept (the journal syncs only on FLUSH and barriers), new records are
 * numbered on after them, a jump in the journal's numbering that its recovery accepts because
 * the store holds what lies in between.
 *
 * <p>Reading the segments after the marker whole costs an open after a crash up to a
 * checkpoint's worth of segments (64) plus {@code syncDelay} of uploads; after a close or a
 * handover the marker covers every segment and only headers are read. A process that does not
 * own the volume (standby) deletes nothing and loads only what is durable; it loads the volume
 * again, as its owner, when it takes it over.
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
    List<ObjectInfo> listed = store.list(StoreLayout.segmentPrefix(meta.id()));
    List<ObjectInfo> segments = listed.stream().filter(info -> StoreLayout.isSegment(info.key())).toList();
    long last = lastSegment;
    long journal = journalSeq;
    List<String> kept = new ArrayList<>();
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
          if (!owner && !readHeader(key).syncedWhenWritten()) {
            throw new SegmentFormat.DamagedSegmentException(key + " was not made durable by a barrier");
          }
          // Whole: kept (a version 1 segment was fsynced before its build went on). One read of
          // the object gives the header and checks the data.
          header = SegmentFormat.verify(ByteBuffer.wrap(store.get(key)), key);
          verifyLinked(header, key);
          if (!header.syncedWhenWritten()) {
            kept.add(key);
            kept.addAll(header.objects());
          }
        } catch (SegmentFormat.DamagedSegmentException | NoSuchObjectException e) {
          drop(meta, segments.subList(i, segments.size()), e, owner);
          break;
        }
      }
      SegmentFormat.apply(header, key, table);
      last = seq;
      journal = Math.max(journal, header.lastJournalSeq());
    }
    if (owner) {
      dropUnlinked(meta, listed, last);
    }
    if (!kept.isEmpty()) {
      // Durable before the journal counts on them: it retires what durable segments hold.
      store.syncLazy(kept.stream().distinct().toList());
      store.put(StoreLayout.synced(meta.id()), SegmentWriter.encodeMarker(last));
      LOG.log(Level.INFO, "volume {0}: kept {1} whole segments written before a crash and not synced, "
          + "synced now up to {2}", meta.name(), kept.size(), StoreLayout.segment(meta.id(), last));
    }
    return new Replayed(last, journal);
  }

  /**
   * Checks the bytes a segment no barrier covered links to (journal files the store adopted, see
   * {@link JournalLinks}): each must still be the whole journal record it was when linked, which a
   * power cut before the barrier may have taken (the journal syncs its files only on a FLUSH).
   */
  private void verifyLinked(SegmentFormat.Header header, String key) throws IOException {
    for (SegmentFormat.Entry entry : header.entries()) {
      if (entry.kind() != SegmentFormat.Kind.LINKED) {
        continue;
      }
      String object = header.objectOf(entry);
      ByteBuffer record = ByteBuffer.allocate(Math.toIntExact(JournalRecord.HEADER + entry.length()));
      store.read(object, entry.dataOffset() - JournalRecord.HEADER, record);
      if (!JournalRecord.isWholeWrite(record.flip(), entry.volumeOffset(), entry.length(), entry.crc())) {
        throw new SegmentFormat.DamagedSegmentException(key + " links to bytes of " + object + " at "
            + entry.dataOffset() + " that are not the write it was written with");
      }
    }
  }

  /**
   * Deletes journal files adopted for segments that are not there (written after the last segment
   * kept: a crash between the adoption and the segment, or a segment dropped above). Each is named
   * after the first segment linking to it, so no kept segment or checkpoint maps into it.
   */
  private void dropUnlinked(VolumeMeta meta, List<ObjectInfo> listed, long lastKept) throws IOException {
    List<String> orphans = listed.stream().map(ObjectInfo::key)
        .filter(k -> StoreLayout.isSegmentData(k) && StoreLayout.seqOf(k) > lastKept).toList();
    if (!orphans.isEmpty()) {
      LOG.log(Level.INFO, "volume {0}: deleting {1} adopted journal files no segment links to, from {2} on",
          meta.name(), orphans.size(), orphans.get(0));
      store.deleteAll(orphans);
    }
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
    return readHeader(store, key);
  }

  /** A segment's header, read with one request (two for a header larger than the probe). */
  static SegmentFormat.Header readHeader(ObjectStore store, String key) throws IOException {
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
