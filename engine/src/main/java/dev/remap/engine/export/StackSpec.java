package dev.remap.engine.export;

import dev.remap.engine.cache.ObjectReader;
import java.util.Optional;

/**
 * How one export's stack is built, fixed when it opens: the RAM tier above the base device, the
 * transfer workers and queue in front of it, whether the export advertises the room its device
 * may grow into, and the base's own local-disk tier (a volume's store reads go through it).
 * Settings for single exports (a CSI volume class's cache sizes) are given as a whole spec by
 * {@link Chooser} at open, not kept in maps that apply "from the next open".
 *
 * @param ramCacheBytes RAM tier size (0: none)
 * @param ramPageSize RAM tier page (at least the device's block size is used)
 * @param workers transfer workers of the export's request queue
 * @param queueCapacity requests the queue holds before submitters wait
 * @param maxMerged the largest request the queue merges adjacent ones into
 * @param growthRoom advertise the device's growth limit instead of its size ({@link GrowthRoom})
 * @param diskTier the base's store reader with a local-disk tier, or empty for the source's default
 */
public record StackSpec(long ramCacheBytes, int ramPageSize, int workers, int queueCapacity, int maxMerged,
    boolean growthRoom, Optional<ObjectReader> diskTier) {

  public StackSpec {
    if (ramCacheBytes < 0) {
      throw new IllegalArgumentException("a RAM cache size cannot be negative: " + ramCacheBytes);
    }
    if (ramPageSize <= 0 || workers < 1 || queueCapacity < 1 || maxMerged < 1) {
      throw new IllegalArgumentException("RAM page, workers, queue capacity and merge size must be positive");
    }
    diskTier = diskTier == null ? Optional.empty() : diskTier;
  }

  public StackSpec withRamCache(long bytes) {
    return new StackSpec(bytes, ramPageSize, workers, queueCapacity, maxMerged, growthRoom, diskTier);
  }

  public StackSpec withDiskTier(Optional<ObjectReader> reader) {
    return new StackSpec(ramCacheBytes, ramPageSize, workers, queueCapacity, maxMerged, growthRoom, reader);
  }

  /** Chooses an export's spec when it opens, from the server's defaults. */
  @FunctionalInterface
  public interface Chooser {
    /** Every export gets the server's defaults. */
    Chooser DEFAULTS = (name, defaults) -> defaults;

    StackSpec choose(String export, StackSpec defaults);
  }
}
