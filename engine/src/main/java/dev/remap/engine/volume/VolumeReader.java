package dev.remap.engine.volume;

import dev.remap.engine.cache.DiskCache;
import dev.remap.engine.cache.ObjectReader;
import dev.remap.engine.cache.TierCounters;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;

/**
 * How one volume reads its data in the store: through the reader it was given (the store itself,
 * or a local-disk tier), counting the reads that fail; a disk tier is read through a view of its
 * own ({@link DiskCache#counted()}), so that the volume's hits and misses are told apart from
 * those of the other volumes sharing the tier. Thread-safe: the counters are lock-free.
 */
final class VolumeReader implements ObjectReader {

  private static final TierCounters.Snapshot NO_DISK_TIER = new TierCounters.Snapshot("disk", 0, 0, 0, 0, 0);

  private final ObjectReader next;
  private final LongAdder failures = new LongAdder();

  VolumeReader(ObjectReader given) {
    this.next = given instanceof DiskCache tier ? tier.counted() : given;
  }

  @Override
  public void readFully(String key, long offset, ByteBuffer dst) throws IOException {
    try {
      next.readFully(key, offset, dst);
    } catch (IOException e) {
      failures.increment();
      throw e;
    }
  }

  @Override
  public boolean readIfLocal(String key, long offset, ByteBuffer dst) throws IOException {
    try {
      return next.readIfLocal(key, offset, dst);
    } catch (IOException e) {
      failures.increment();
      throw e;
    }
  }

  /** Whether this volume's store reads go through a local-disk tier (which fills blocks on a miss). */
  boolean hasDiskTier() {
    return next instanceof DiskCache.Counted;
  }

  /** Reads of store data that failed. */
  long failures() {
    return failures.sum();
  }

  /** This volume's hits and misses in its disk tier; zeros when it reads the store directly. */
  TierCounters.Snapshot disk() {
    return next instanceof DiskCache.Counted counted ? counted.counters() : NO_DISK_TIER;
  }
}
