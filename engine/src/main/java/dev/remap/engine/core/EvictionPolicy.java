package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which cache entries to drop when a tier is full: a segmented LRU. New entries enter a
 * probationary segment; a second hit promotes them to a protected segment (at most
 * {@code protectedShare} of the capacity), whose least recent entries fall back to probation.
 * Eviction takes the least recent probationary entry first. A VM that streams through its disk
 * once (a backup, a virus scan, a boot that reads everything) therefore cycles through probation
 * and does not flush the blocks it uses again and again.
 *
 * <p>Pure and not thread-safe: a cache calls it under its own lock and does the I/O itself.
 */
public final class EvictionPolicy<K> {

  private final long capacity;
  private final long protectedCapacity;
  private final LinkedHashMap<K, Long> probation = new LinkedHashMap<>();
  private final LinkedHashMap<K, Long> protectedSegment = new LinkedHashMap<>();
  private long probationBytes;
  private long protectedBytes;

  public EvictionPolicy(long capacity, double protectedShare) {
    if (capacity <= 0 || protectedShare < 0 || protectedShare >= 1) {
      throw new IllegalArgumentException("capacity must be positive and protectedShare in [0, 1)");
    }
    this.capacity = capacity;
    this.protectedCapacity = (long) (capacity * protectedShare);
  }

  public long capacity() {
    return capacity;
  }

  public long usedBytes() {
    return probationBytes + protectedBytes;
  }

  public boolean contains(K key) {
    return probation.containsKey(key) || protectedSegment.containsKey(key);
  }

  /** Records a hit; returns false when the key is not cached. */
  public boolean access(K key) {
    Long size = protectedSegment.remove(key);
    if (size != null) {
      protectedSegment.put(key, size);
      return true;
    }
    size = probation.remove(key);
    if (size == null) {
      return false;
    }
    probationBytes -= size;
    protectedSegment.put(key, size);
    protectedBytes += size;
    demoteOverflow();
    return true;
  }

  /**
   * Admits key of size bytes and returns the keys the cache must drop to stay within capacity
   * (possibly key itself, when it is larger than the whole cache). Re-adding a key replaces it.
   */
  public List<K> add(K key, long size) {
    if (size <= 0) {
      throw new IllegalArgumentException("size must be positive");
    }
    remove(key);
    List<K> evicted = new ArrayList<>();
    if (size > capacity) {
      evicted.add(key);
      return evicted;
    }
    probation.put(key, size);
    probationBytes += size;
    while (usedBytes() > capacity) {
      evicted.add(evictOne(key));
    }
    return evicted;
  }

  /** Forgets key (the cache dropped or invalidated it). */
  public void remove(K key) {
    Long size = probation.remove(key);
    if (size != null) {
      probationBytes -= size;
      return;
    }
    size = protectedSegment.remove(key);
    if (size != null) {
      protectedBytes -= size;
    }
  }

  /** Drops the least recent probationary entry, or a protected one rather than the newcomer. */
  private K evictOne(K newcomer) {
    boolean onlyNewcomer = probation.size() == 1 && probation.containsKey(newcomer);
    LinkedHashMap<K, Long> from = probation.isEmpty() || onlyNewcomer ? protectedSegment : probation;
    Iterator<Map.Entry<K, Long>> oldest = from.entrySet().iterator();
    Map.Entry<K, Long> victim = oldest.next();
    oldest.remove();
    if (from == probation) {
      probationBytes -= victim.getValue();
    } else {
      protectedBytes -= victim.getValue();
    }
    return victim.getKey();
  }

  private void demoteOverflow() {
    while (protectedBytes > protectedCapacity && !protectedSegment.isEmpty()) {
      Iterator<Map.Entry<K, Long>> oldest = protectedSegment.entrySet().iterator();
      Map.Entry<K, Long> entry = oldest.next();
      oldest.remove();
      protectedBytes -= entry.getValue();
      probation.put(entry.getKey(), entry.getValue());
      probationBytes += entry.getValue();
    }
  }
}
