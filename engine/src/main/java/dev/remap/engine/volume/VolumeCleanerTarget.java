package dev.remap.engine.volume;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * What a volume's {@link SegmentCleaner} sees of it: the stored mapping under the map lock, its
 * store reader, and its uploader's segment writing (the cleaner runs on the uploader's thread).
 */
final class VolumeCleanerTarget implements SegmentCleaner.Target {

  private final Volume volume;
  private final VolumeReader reader;
  private final Runnable collectSoon;

  VolumeCleanerTarget(Volume volume, VolumeReader reader, Runnable collectSoon) {
    this.volume = volume;
    this.reader = reader;
    this.collectSoon = collectSoon;
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
  public boolean owned() {
    return volume.tenure.isOwner();
  }

  @Override
  public MappingTable storedCopy() {
    volume.mapLock.readLock().lock();
    try {
      return volume.stored.current().copy();
    } finally {
      volume.mapLock.readLock().unlock();
    }
  }

  @Override
  public <T> T queryStored(Function<MappingTable, T> query) {
    volume.mapLock.readLock().lock();
    try {
      return query.apply(volume.stored.current());
    } finally {
      volume.mapLock.readLock().unlock();
    }
  }

  @Override
  public long lastWriteNanos() {
    return volume.lastWriteNanos();
  }

  @Override
  public long bytesUploaded() {
    return volume.uploader.writer().bytesUploaded();
  }

  /** The volume's size, and at least 256 MiB: small volumes are not measured after every few segments. */
  @Override
  public long measureAfterBytes() {
    return Math.max(volume.size(), 256L << 20);
  }

  @Override
  public void readStore(String key, long offset, ByteBuffer dst) throws IOException {
    reader.readFully(key, offset, dst);
  }

  @Override
  public void writeCleaned(List<SegmentFormat.Entry> entries, List<ByteBuffer> payloads, List<Uploader.Move> moves)
      throws IOException {
    volume.uploader.writer().writeCleaned(entries, payloads, moves);
  }

  @Override
  public Set<String> filling() {
    return volume.uploader.writer().filling();
  }

  @Override
  public void checkpointIfBehind() throws IOException {
    volume.uploader.writer().checkpointIfBehind();
  }

  @Override
  public void collectSoon() {
    collectSoon.run();
  }
}
