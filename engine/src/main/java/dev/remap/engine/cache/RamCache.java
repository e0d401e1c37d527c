package dev.remap.engine.cache;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.ForwardingBlockDevice;
import dev.remap.engine.core.EvictionPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The RAM tier, in front of the request queue: a read whose pages are all here is answered at
 * once, without queueing (seed: the RAM cache is checked before a request enters the request
 * array). Pages are {@code pageSize}-aligned ranges of the device; misses read whole pages from
 * {@code next} and keep them. Writes go through to {@code next} and then drop the pages they
 * touch, so the cache never holds data older than the device.
 *
 * <p>Locking: {@code lock} guards the page map and the eviction policy and is held only for
 * copies, never for I/O. A read that misses records each page's write generation before it
 * reads {@code next}, and keeps the page only if no write touched it meanwhile, so a slow miss
 * can never re-insert data that a concurrent write replaced. A change marks its pages before it
 * goes to {@code next} and again once it is there, before it drops them: a miss that read the
 * old bytes while the change was on its way (after the first mark) sees the second one.
 */
public final class RamCache extends ForwardingBlockDevice {

  private static final int STRIPES = 1 << 14;

  private final int pageSize;
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<Long, byte[]> pages = new HashMap<>();
  private final EvictionPolicy<Long> policy;
  private final AtomicLongArray writeGenerations = new AtomicLongArray(STRIPES);
  private final TierCounters counters = new TierCounters();

  private final java.util.function.BooleanSupplier valid;

  public RamCache(BlockDevice next, long capacityBytes, int pageSize) {
    this(next, capacityBytes, pageSize, () -> true);
  }

  /**
   * @param valid whether the cached pages may be used now: false while the volume below is owned
   *     by another process (which may change it); see {@link #clear}
   */
  public RamCache(BlockDevice next, long capacityBytes, int pageSize, java.util.function.BooleanSupplier valid) {
    super(next);
    this.valid = valid;
    if (Integer.bitCount(pageSize) != 1 || pageSize < next.blockSize()) {
      throw new IllegalArgumentException("cache page size must be a power of two of at least one block");
    }
    this.pageSize = pageSize;
    this.policy = new EvictionPolicy<>(capacityBytes, 0.8);
  }

  public TierCounters.Snapshot counters() {
    lock.lock();
    try {
      return new TierCounters.Snapshot("ram", counters.hits.get(), counters.misses.get(), counters.evictions.get(),
          policy.usedBytes(), policy.capacity());
    } finally {
      lock.unlock();
    }
  }




  /** Answers from RAM if every page of the range is cached; false (dst untouched) otherwise. */
  public boolean tryRead(long offset, ByteBuffer dst) {
    int length = dst.remaining();
    if (length == 0 || offset < 0 || offset + length > size() || !valid.getAsBoolean()) {
      return false;
    }
    long first = offset / pageSize;
    long last = (offset + length - 1) / pageSize;
    lock.lock();
    try {
      for (long p = first; p <= last; p++) {
        if (!pages.containsKey(p)) {
          counters.misses.incrementAndGet();
          return false;
        }
      }
      int base = dst.position();
      for (long p = first; p <= last; p++) {
        policy.access(p);
        long pageStart = p * pageSize;
        long from = Math.max(offset, pageStart);
        long to = Math.min(offset + length, pageStart + pageSize);
        dst.position(base + (int) (from - offset));
        dst.put(pages.get(p), (int) (from - pageStart), (int) (to - from));
      }
      dst.position(base + length);
      counters.hits.incrementAndGet();
      return true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    if (tryRead(offset, dst)) {
      return;
    }
    int length = dst.remaining();
    if (offset < 0 || offset + length > size()) {
      next.read(offset, dst);
      return;
    }
    // Read the whole pages around the request once, keep them, and answer from them.
    long start = offset / pageSize * pageSize;
    long end = Math.min(size(), (offset + length + pageSize - 1) / pageSize * pageSize);
    long[] generations = new long[(int) ((end - start) / pageSize)];
    for (int i = 0; i < generations.length; i++) {
      generations[i] = writeGenerations.get(stripe(start / pageSize + i));
    }
    ByteBuffer whole = ByteBuffer.allocate((int) (end - start));
    next.read(start, whole);
    byte[] bytes = whole.array();
    dst.put(bytes, (int) (offset - start), length);
    lock.lock();
    try {
      for (int i = 0; i < generations.length; i++) {
        long page = start / pageSize + i;
        int pageLength = (int) Math.min(pageSize, end - (start + (long) i * pageSize));
        if (pageLength == pageSize && writeGenerations.get(stripe(page)) == generations[i] && !pages.containsKey(page)) {
          byte[] copy = new byte[pageSize];
          System.arraycopy(bytes, i * pageSize, copy, 0, pageSize);
          insert(page, copy);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  private void insert(long page, byte[] data) {
    pages.put(page, data);
    for (Long evicted : policy.add(page, data.length)) {
      pages.remove(evicted);
      counters.evictions.incrementAndGet();
    }
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    long length = src.remaining();
    bump(offset, length);
    next.write(offset, src, fua);
    invalidate(offset, length);
  }

  /** As {@link #write} for each, with the writes handed below together (one journal append). */
  @Override
  public int writeAll(long[] offsets, ByteBuffer[] payloads, int count) throws IOException {
    long[] lengths = new long[count];
    for (int i = 0; i < count; i++) {
      lengths[i] = payloads[i].remaining();
      bump(offsets[i], lengths[i]);
    }
    int done = 0;
    try {
      done = next.writeAll(offsets, payloads, count);
    } finally {
      // Every page marked is dropped, written or not: a failed write may have changed some of it.
      for (int i = 0; i < count; i++) {
        invalidate(offsets[i], lengths[i]);
      }
    }
    return done;
  }

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    bump(offset, length);
    next.trim(offset, length, fua);
    invalidate(offset, length);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    bump(offset, length);
    next.writeZeroes(offset, length, noHole, fua);
    invalidate(offset, length);
  }




  /**
   * Drops every page, and makes misses in flight drop what they read: the device below changed
   * behind the cache's back (its volume was owned by another node meanwhile).
   */
  public void clear() {
    for (int i = 0; i < STRIPES; i++) {
      writeGenerations.incrementAndGet(i);
    }
    lock.lock();
    try {
      for (Long page : pages.keySet()) {
        policy.remove(page);
      }
      pages.clear();
    } finally {
      lock.unlock();
    }
  }

  /** Marks the pages a change touches, before the change, so in-flight misses drop them. */
  private void bump(long offset, long length) {
    if (length <= 0) {
      return;
    }
    long first = offset / pageSize;
    long last = (offset + length - 1) / pageSize;
    for (long p = first; p <= Math.min(last, first + STRIPES); p++) {
      writeGenerations.incrementAndGet(stripe(p));
    }
  }

  /**
   * Drops the cached pages a change touched. Dropping rather than patching keeps the cache
   * equal to the device even when two writes to one page race: the next read refills it.
   */
  private void invalidate(long offset, long length) {
    if (length <= 0) {
      return;
    }
    bump(offset, length);
    lock.lock();
    try {
      long first = offset / pageSize;
      long last = (offset + length - 1) / pageSize;
      if (last - first > pages.size()) {
        pages.keySet().removeIf(p -> {
          boolean hit = p >= first && p <= last;
          if (hit) {
            policy.remove(p);
          }
          return hit;
        });
        return;
      }
      for (long p = first; p <= last; p++) {
        if (pages.remove(p) != null) {
          policy.remove(p);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  private static int stripe(long page) {
    return (int) (page ^ (page >>> 17)) & (STRIPES - 1);
  }
}
