package dev.remap.engine.volume;

import dev.remap.engine.core.MappingCodec;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.journal.JournalRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** A volume as its uploader sees it ({@link UploadHost}): its tables under its map lock, its tenure. */
final class VolumeUploadHost implements UploadHost {

  private final Volume volume;

  VolumeUploadHost(Volume volume) {
    this.volume = volume;
  }

  @Override
  public String name() {
    return volume.name();
  }

  @Override
  public String volumeId() {
    return volume.meta().id();
  }

  @Override
  public String fencedReason() {
    return volume.tenure.fencedReason();
  }

  @Override
  public boolean owned() {
    return volume.tenure.isOwner();
  }

  @Override
  public boolean stillOwned() throws IOException {
    return volume.tenure.stillOwned();
  }

  @Override
  public void lost(String why) {
    volume.tenure.lost(why);
  }

  @Override
  public Packing pack(Journal journal, List<Journal.Appended> batch, boolean syncJournal) throws IOException {
    List<SegmentFormat.Entry> entries = new ArrayList<>();
    List<Uploader.Move> moves = new ArrayList<>();
    // Under the map lock only decide what to upload; the journal is read after letting go of
    // it, so that writers (who need the lock to map their writes) never wait for that I/O.
    // Only the upload thread retires journal files, so the locations stay readable; a part
    // overwritten meanwhile is uploaded needlessly and then left alone by the relocation.
    volume.mapLock.readLock().lock();
    try {
      // On a store whose segments are durable once written (S3): before the store gets ahead of
      // the journal, the journal holds everything mapped so far durably. Otherwise a power cut
      // could leave a segment that skipped a flushed write (replaced by a newer, unflushed one the
      // cut then drops), or a store whose journal numbers run past what the journal kept, which
      // the next open would number on from and the replay after it cut off as torn (found by
      // PowerCutTest and JournalPowerCutTest). Under the read lock: no change can be mapped
      // between this sync and the decisions below. On a store that defers durability the
      // barrier syncs the journal before it makes segments durable, and an open drops every
      // segment no barrier covered (SegmentRecovery): writers do not wait for this fsync.
      if (syncJournal) {
        journal.sync();
      }
      for (Journal.Appended appended : batch) {
        JournalRecord r = appended.record();
        if (r.type() != JournalRecord.Type.WRITE) {
          SegmentFormat.Kind kind = r.type() == JournalRecord.Type.ZERO ? SegmentFormat.Kind.ZERO : SegmentFormat.Kind.TRIM;
          entries.add(new SegmentFormat.Entry(kind, r.offset(), r.length(), 0));
          continue;
        }
        for (Span span : volume.live.resolve(r.offset(), r.length())) {
          Source expected = appended.payload().advance(span.offset() - r.offset());
          if (span.source().equals(expected)) {
            entries.add(new SegmentFormat.Entry(SegmentFormat.Kind.DATA, span.offset(), span.length(), 0));
            moves.add(new Uploader.Move(span.offset(), span.length(), expected, null));
          }
        }
      }
    } finally {
      volume.mapLock.readLock().unlock();
    }
    return new Packing(entries, moves);
  }

  @Override
  public void commit(String key, SegmentFormat.Header header, List<Uploader.Move> moves) throws IOException {
    volume.commit(key, header, moves);
  }

  @Override
  public void retire(Journal journal, long uptoSeq) throws IOException {
    volume.mapLock.writeLock().lock();
    try {
      journal.retireLater(uptoSeq);
    } finally {
      volume.mapLock.writeLock().unlock();
    }
    // Unlinked outside the map lock: readers and writers never wait for the file system here.
    journal.deleteRetired();
  }

  @Override
  public byte[] checkpoint(long segmentSeq, long journalSeq) {
    volume.mapLock.readLock().lock();
    try {
      return MappingCodec.encode(volume.stored, segmentSeq, journalSeq);
    } finally {
      volume.mapLock.readLock().unlock();
    }
  }
}
