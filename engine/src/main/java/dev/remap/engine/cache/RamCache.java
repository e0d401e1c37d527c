package dev.remap.engine.cache;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.ForwardingBlockDevice;
import dev.remap.engine.core.PageSlots;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The RAM tier, in front of the request queue: a read whose pages are all here is answered at
 * once, without queueing (seed: the RAM cache is checked before a request enters the request
 * array). Pages are {@code pageSize}-aligned ranges of the device; misses read whole pages from
 * {@code next} and keep them. Writes go through to {@code next} and then update the pages kept
 * with the bytes written (as a page cache does), or drop them where another change raced, so the
 * cache never holds data older than the device.
 *
 * <p>Locking: {@code lock} guards the page index and the slabs and is held only for
 * copies, never for I/O. A read that misses records each page's write generation before it
 * reads {@code next}, and keeps the page only if no write touched it meanwhile, so a slow miss
 * can never re-insert data that a concurrent write replaced. A change marks its pages before it
 * goes to {@code next} and again once it is there, before it drops them: a miss that read the
 * old bytes while the change was on its way (after the first mark) sees the second one.
 *
 * <p>Memory: {@link PageSlots} says which pages are kept and in which slot; a slot's bytes are a
 * stretch of a slab, a heap {@code byte[]} of at most {@link #SLAB_BYTES}. A tier of a few GiB
 * is then a few hundred arrays without references instead of hundreds of thousands of small
 * ones (each with a boxed key and two map entries), so filling it allocates nothing per page and
 * the collector has next to nothing to trace. Heap slabs rather than direct buffers: the tier
 * counts against {@code -Xmx} as its pages always did, and takes nothing from the direct memory
 * limit that the connections' buffers share (a direct tier would need that limit raised by its
 * size wherever a tier is configured). Slabs are
 * allocated as the tier first fills them (slots are handed out from the lowest, freed ones
 * first), so an empty tier costs nothing, and {@link #clear} gives them back.
 */
public final class RamCache extends ForwardingBlockDevice {

  private static final int STRIPES = 1 << 14;
  /** Writes of at most this many pages update the pages kept; longer ones drop them (the lock is held for copies only). */
  private static final int MAX_UPDATE_PAGES = 256;
  /** The most bytes one slab holds: large enough to be few, small enough to find room for on a busy heap. */
  static final int SLAB_BYTES = 16 << 20;

  private final int pageSize;
  private final long capacityBytes;
  private final ReentrantLock lock = new ReentrantLock();
  /** Which page is in which slot; under lock. */
  private final PageSlots slots;
  /** Slot s is at (s % slotsPerSlab) * pageSize in slab s / slotsPerSlab; under lock, null until first used. */
  private final byte[][] slabs;
  private final int slotsPerSlab;
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
    long slotCount = capacityBytes / pageSize;
    if (capacityBytes <= 0 || slotCount > PageSlots.MAX_CAPACITY) {
      throw new IllegalArgumentException("cache capacity must be positive and at most "
          + PageSlots.MAX_CAPACITY + " pages: " + capacityBytes);
    }
    this.pageSize = pageSize;
    this.capacityBytes = capacityBytes;
    this.slots = new PageSlots((int) slotCount, 0.8);
    this.slotsPerSlab = Math.max(1, SLAB_BYTES / pageSize);
    this.slabs = new byte[(int) ((slotCount + slotsPerSlab - 1) / slotsPerSlab)][];
  }

  public TierCounters.Snapshot counters() {
    lock.lock();
    try {
      return new TierCounters.Snapshot("ram", counters.hits.get(), counters.misses.get(), counters.evictions.get(),
          (long) slots.size() * pageSize, capacityBytes);
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
        if (slots.lookup(p) < 0) {
          counters.misses.incrementAndGet();
          return false;
        }
      }
      int base = dst.position();
      for (long p = first; p <= last; p++) {
        int slot = slots.access(p);
        long pageStart = p * pageSize;
        long from = Math.max(offset, pageStart);
        long to = Math.min(offset + length, pageStart + pageSize);
        dst.put(base + (int) (from - offset), slabs[slot / slotsPerSlab],
            slabOffset(slot) + (int) (from - pageStart), (int) (to - from));
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
    fill(offset, dst, (at, into) -> {
      next.read(at, into);
      return true;
    });
  }

  /** As {@link #read}, when the device below can read the range locally; misses are kept as read does. */
  @Override
  public boolean readIfLocal(long offset, ByteBuffer dst) throws IOException {
    return fill(offset, dst, next::readIfLocal);
  }

  /** A read of the device below that may decline (false: nothing read, nothing to keep). */
  @FunctionalInterface
  private interface Below {
    boolean read(long offset, ByteBuffer dst) throws IOException;
  }

  /** Answers from RAM, or reads from below and keeps the pages; false if below declined. */
  private boolean fill(long offset, ByteBuffer dst, Below below) throws IOException {
    int length = dst.remaining();
    boolean wholePages = offset % pageSize == 0 && length % pageSize == 0 && length > 0;
    if (!wholePages && tryRead(offset, dst)) {
      return true;
    }
    if (offset < 0 || offset + length > size()) {
      return below.read(offset, dst);
    }
    long first = offset / pageSize;
    if (wholePages) {
      // Whole pages: the cached ones copied (one walk, counted as tryRead counts), the runs of
      // missing ones read straight into dst and kept from there. A large read after random writes
      // often misses a page or two of hundreds (dropped by racing writes): reading all of it from
      // below cost a fragment read per page. The generations come first: a page copied here,
      // evicted and then written must not be kept again from this copy.
      long[] generations = generations(first, length / pageSize);
      int base = dst.position();
      boolean[] missing = copyCached(first, generations.length, dst, base);
      if (missing == null) {
        dst.position(base + length);
        return true;
      }
      for (int i = 0; i < missing.length; i++) {
        if (!missing[i]) {
          continue;
        }
        int end = i;
        while (end < missing.length && missing[end]) {
          end++;
        }
        ByteBuffer run = dst.duplicate().limit(base + end * pageSize).position(base + i * pageSize);
        if (!below.read(offset + (long) i * pageSize, run)) {
          return false;
        }
        i = end - 1;
      }
      dst.position(base + length);
      keep(first, generations, dst, base);
      return true;
    }
    // Read the whole pages around the request once, keep them, and answer from them.
    long start = first * pageSize;
    long end = Math.min(size(), (offset + length + pageSize - 1) / pageSize * pageSize);
    long[] generations = generations(first, (int) ((end - start) / pageSize));
    ByteBuffer whole = ByteBuffer.allocate((int) (end - start));
    if (!below.read(start, whole)) {
      return false;
    }
    dst.put(whole.array(), (int) (offset - start), length);
    keep(first, generations, whole, 0);
    return true;
  }

  /**
   * Copies the cached ones of count pages from first into dst (page first + i at index base + i *
   * pageSize) and says which were not cached; null when all were (a hit; a miss otherwise).
   */
  private boolean[] copyCached(long first, int count, ByteBuffer dst, int base) {
    boolean[] missing = new boolean[count];
    if (!valid.getAsBoolean()) {
      // Another server owns the volume now: what this tier holds may be older than its writes.
      Arrays.fill(missing, true);
      return missing;
    }
    boolean any = false;
    lock.lock();
    try {
      for (int i = 0; i < count; i++) {
        if (slots.lookup(first + i) < 0) {
          missing[i] = true;
          any = true;
        } else {
          int slot = slots.access(first + i);
          dst.put(base + i * pageSize, slabs[slot / slotsPerSlab], slabOffset(slot), pageSize);
        }
      }
    } finally {
      lock.unlock();
    }
    (any ? counters.misses : counters.hits).incrementAndGet();
    return any ? missing : null;
  }

  /** The write generations of count pages from first, taken before they are read. */
  private long[] generations(long first, int count) {
    long[] generations = new long[count];
    for (int i = 0; i < count; i++) {
      generations[i] = writeGenerations.get(stripe(first + i));
    }
    return generations;
  }

  /**
   * Keeps the pages just read (page first + i at from's index base + i * pageSize), each one only
   * if no change touched it since its generation was taken and it is not kept already.
   */
  private void keep(long first, long[] generations, ByteBuffer from, int base) {
    lock.lock();
    try {
      for (int i = 0; i < generations.length; i++) {
        long page = first + i;
        if (writeGenerations.get(stripe(page)) != generations[i] || slots.lookup(page) >= 0) {
          continue;
        }
        int slot = slots.add(page);
        if (slots.lastEvicted() >= 0) {
          counters.evictions.incrementAndGet();
        }
        if (slot >= 0) {
          from.get(base + i * pageSize, slab(slot), slabOffset(slot), pageSize);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** The slab slot is in, allocated when the tier first reaches it. */
  private byte[] slab(int slot) {
    int index = slot / slotsPerSlab;
    byte[] slab = slabs[index];
    if (slab == null) {
      long slotsLeft = slots.capacity() - (long) index * slotsPerSlab;
      slab = new byte[(int) Math.min(slotsPerSlab, slotsLeft) * pageSize];
      slabs[index] = slab;
    }
    return slab;
  }

  private int slabOffset(int slot) {
    return slot % slotsPerSlab * pageSize;
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    ByteBuffer data = src.duplicate();
    long[] marks = mark(offset, data.remaining());
    boolean written = false;
    try {
      next.write(offset, src, fua);
      written = true;
    } finally {
      settle(offset, data, marks, written);
    }
  }

  /** As {@link #write} for each, with the writes handed below together (one journal append). */
  @Override
  public int writeAll(long[] offsets, ByteBuffer[] payloads, int count) throws IOException {
    ByteBuffer[] data = new ByteBuffer[count];
    long[][] marks = new long[count][];
    for (int i = 0; i < count; i++) {
      data[i] = payloads[i].duplicate();
      marks[i] = mark(offsets[i], data[i].remaining());
    }
    int done = 0;
    try {
      done = next.writeAll(offsets, payloads, count);
    } finally {
      // The writes that failed are dropped, not updated: a failed write may have changed some of it.
      for (int i = 0; i < count; i++) {
        settle(offsets[i], data[i], marks[i], i < done);
      }
    }
    return done;
  }

  /**
   * Marks the pages a write touches before it goes below; returns each page's generation after
   * the mark, or null for a write too long to update in place (its pages are dropped instead).
   */
  private long[] mark(long offset, long length) {
    if (length <= 0 || length > (long) MAX_UPDATE_PAGES * pageSize) {
      bump(offset, length);
      return null;
    }
    long first = offset / pageSize;
    long[] marks = new long[(int) ((offset + length - 1) / pageSize - first + 1)];
    for (int i = 0; i < marks.length; i++) {
      marks[i] = writeGenerations.incrementAndGet(stripe(first + i));
    }
    return marks;
  }

  /**
   * After a write: a kept page that no other change marked since this write did gets the
   * written bytes; every other kept page the write touched is dropped. The check, the second mark
   * and the update happen together under the lock, so a change racing this one either marked
   * before the check (and this one drops) or after it (and its own settle comes later, in lock
   * order, and sees this mark). A miss that read the old bytes meanwhile either kept them before
   * (they are overwritten here) or sees the second mark.
   */
  private void settle(long offset, ByteBuffer data, long[] marks, boolean written) {
    int length = data.remaining();
    if (marks == null || !written) {
      invalidate(offset, length);
      return;
    }
    long first = offset / pageSize;
    lock.lock();
    try {
      for (int i = 0; i < marks.length; i++) {
        long page = first + i;
        int stripe = stripe(page);
        boolean alone = writeGenerations.getAndIncrement(stripe) == marks[i];
        int slot = slots.lookup(page);
        if (slot < 0) {
          continue;
        }
        if (!alone) {
          slots.remove(page);
          continue;
        }
        long pageStart = page * pageSize;
        long from = Math.max(offset, pageStart);
        long to = Math.min(offset + length, pageStart + pageSize);
        data.get(data.position() + (int) (from - offset), slab(slot), slabOffset(slot) + (int) (from - pageStart),
            (int) (to - from));
      }
    } finally {
      lock.unlock();
    }
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
      slots.clear();
      Arrays.fill(slabs, null);
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

  /** Drops the cached pages a change touched (trims, zeroes, long or failed writes): the next read refills them. */
  private void invalidate(long offset, long length) {
    if (length <= 0) {
      return;
    }
    bump(offset, length);
    lock.lock();
    try {
      slots.removeRange(offset / pageSize, (offset + length - 1) / pageSize);
    } finally {
      lock.unlock();
    }
  }

  private static int stripe(long page) {
    return (int) (page ^ (page >>> 17)) & (STRIPES - 1);
  }
}
