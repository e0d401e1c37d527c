package dev.remap.engine.volume;

import dev.remap.engine.core.MappingCodec;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.journal.Journal;
import java.io.IOException;
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
    // Copied under the lock (one reference per chunk: chunks are immutable), encoded after it:
    // a table cut into millions of spans takes a while to encode, and writers need the write
    // lock to map their writes.
    MappingTable snapshot;
    volume.mapLock.readLock().lock();
    try {
      snapshot = volume.stored.current().copy();
    } finally {
      volume.mapLock.readLock().unlock();
    }
    return MappingCodec.encode(snapshot, segmentSeq, journalSeq);
  }
}
