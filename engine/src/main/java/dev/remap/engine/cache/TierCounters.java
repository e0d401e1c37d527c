package dev.remap.engine.cache;

import java.util.concurrent.atomic.AtomicLong;

/** Hit, miss and eviction counters of one cache tier, read by metrics. */
public final class TierCounters {

  /** A consistent-enough view for a metrics scrape. */
  public record Snapshot(String tier, long hits, long misses, long evictions, long usedBytes, long capacityBytes) {}

  final AtomicLong hits = new AtomicLong();
  final AtomicLong misses = new AtomicLong();
  final AtomicLong evictions = new AtomicLong();
}
