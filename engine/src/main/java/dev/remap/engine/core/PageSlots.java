package dev.remap.engine.core;

import java.util.Arrays;

/**
 * The index of a RAM tier: which pages it holds, in which slot each one is, and which page to
 * drop when it is full. A slot is a number in {@code [0, capacity)}; where a slot's bytes live is
 * the cache's business. Pages are kept with the policy of {@link EvictionPolicy}, for entries of
 * one size: new pages enter probation, a second hit promotes them to the protected segment (at
 * most {@code protectedShare} of the slots), whose least recent pages fall back to probation, and
 * a full index drops the least recent probationary page (or a protected one rather than the
 * newcomer) and hands its slot to the newcomer.
 *
 * <p>Why not a map and {@link EvictionPolicy}: a RAM tier of a few GiB holds hundreds of
 * thousands of pages, and under sequential reads it admits and drops hundreds of pages per MiB.
 * With a boxed key, a map entry and a linked map entry per page, that churn and the collector's
 * work over those objects were a large part of a read's cost. Here a page costs a few array
 * elements: an open-addressing table from page to slot (linear probing, deletion by shifting the
 * probe run back, so no tombstones), and per slot its page and its links in a doubly linked list
 * of its segment. Nothing is allocated per page; the arrays grow with the highest slot used, so
 * an index that holds little costs little.
 *
 * <p>Pure and not thread-safe: the cache calls it under its own lock.
 */
public final class PageSlots {

  /** The most slots an index may have: its table (twice as many, a power of two) is one int array. */
  public static final int MAX_CAPACITY = 1 << 29;

  private static final byte FREE = 0;
  private static final byte PROBATION = 1;
  private static final byte PROTECTED = 2;
  private static final int NONE = -1;
  private static final int INITIAL_SLOTS = 1024;

  private final int capacity;
  private final long protectedCapacity;

  // Per slot, grown with the highest slot handed out.
  private long[] pageOf;
  private int[] prev;
  private int[] next;
  private byte[] segment;
  /** Slots handed out at least once: slots at or above it were never used. */
  private int highWater;
  /** Slots given back, linked through next: reused before fresh ones so the cache's memory stays where it is. */
  private int freeHead;

  /** Slot + 1 per entry, 0 when empty; at most half full. */
  private int[] table;
  private int shift;

  /** Head (least recent) and tail (most recent) of each segment's list, and its length, by segment. */
  private final int[] head = new int[3];
  private final int[] tail = new int[3];
  private final int[] count = new int[3];
  private long lastEvicted = NONE;

  /**
   * @param capacity how many pages fit (0: none is kept; each add reports the newcomer dropped)
   * @param protectedShare the part of the capacity the protected segment may take, in [0, 1)
   */
  public PageSlots(int capacity, double protectedShare) {
    if (capacity < 0 || capacity > MAX_CAPACITY || protectedShare < 0 || protectedShare >= 1) {
      throw new IllegalArgumentException("capacity must be in [0, " + MAX_CAPACITY + "] and protectedShare in [0, 1)");
    }
    this.capacity = capacity;
    this.protectedCapacity = (long) (capacity * protectedShare);
    clear();
  }

  public int capacity() {
    return capacity;
  }

  /** How many pages are kept. */
  public int size() {
    return count[PROBATION] + count[PROTECTED];
  }

  /** The slot of page, or -1 when it is not kept. Not a hit: the policy does not hear of it. */
  public int lookup(long page) {
    int[] t = table;
    int mask = t.length - 1;
    for (int i = home(page); ; i = (i + 1) & mask) {
      int entry = t[i];
      if (entry == 0) {
        return NONE;
      }
      if (pageOf[entry - 1] == page) {
        return entry - 1;
      }
    }
  }

  /** Records a hit on page (a second one promotes it); returns its slot, or -1 when it is not kept. */
  public int access(long page) {
    int slot = lookup(page);
    if (slot < 0) {
      return NONE;
    }
    unlink(slot);
    append(PROTECTED, slot);
    while (count[PROTECTED] > protectedCapacity && head[PROTECTED] != NONE) {
      int oldest = head[PROTECTED];
      unlink(oldest);
      append(PROBATION, oldest);
    }
    return slot;
  }

  /**
   * Admits page (a page number, not negative) and returns the slot the caller must fill, or -1
   * when the capacity is 0. When the index was full, the page it dropped to make room is
   * {@link #lastEvicted()} and its slot is the one returned. Re-adding a page replaces it.
   */
  public int add(long page) {
    if (page < 0) {
      throw new IllegalArgumentException("page numbers are not negative: " + page);
    }
    lastEvicted = NONE;
    remove(page);
    if (capacity == 0) {
      lastEvicted = page;
      return NONE;
    }
    int slot;
    if (size() < capacity) {
      slot = freeSlot();
      if (size() + 1 > table.length / 2) {
        rehash(table.length * 2);
      }
    } else {
      // At most one page goes: the index was exactly full. A probationary one first; only when
      // probation is empty (the newcomer would be alone there) a protected one.
      slot = head[PROBATION] != NONE ? head[PROBATION] : head[PROTECTED];
      lastEvicted = pageOf[slot];
      forget(slot);
    }
    pageOf[slot] = page;
    place(page, slot);
    append(PROBATION, slot);
    return slot;
  }

  /** The page the last {@link #add} dropped to make room (or the newcomer, at capacity 0), or -1. */
  public long lastEvicted() {
    return lastEvicted;
  }

  /** Forgets page (the cache invalidated it); its slot becomes free. Returns whether it was kept. */
  public boolean remove(long page) {
    int slot = lookup(page);
    if (slot < 0) {
      return false;
    }
    forget(slot);
    segment[slot] = FREE;
    next[slot] = freeHead;
    freeHead = slot;
    return true;
  }

  /** Forgets every page in [first, last]; returns how many were kept. */
  public int removeRange(long first, long last) {
    int removed = 0;
    if (size() == 0 || last < first) {
      return 0;
    }
    if (last - first >= size()) {
      // A range wider than the index: walk the slots rather than the range.
      for (int slot = 0; slot < highWater; slot++) {
        long page = pageOf[slot];
        if (segment[slot] != FREE && page >= first && page <= last && remove(page)) {
          removed++;
        }
      }
      return removed;
    }
    for (long page = first; page <= last; page++) {
      if (remove(page)) {
        removed++;
      }
    }
    return removed;
  }

  /** Forgets every page, and gives back the memory the index grew to. */
  public void clear() {
    int slots = Math.min(capacity, INITIAL_SLOTS);
    pageOf = new long[slots];
    prev = new int[slots];
    next = new int[slots];
    segment = new byte[slots];
    highWater = 0;
    freeHead = NONE;
    table = new int[Math.max(2, Integer.highestOneBit(Math.max(1, slots)) * 2)];
    shift = 64 - Integer.numberOfTrailingZeros(table.length);
    Arrays.fill(head, NONE);
    Arrays.fill(tail, NONE);
    Arrays.fill(count, 0);
    lastEvicted = NONE;
  }

  private int freeSlot() {
    if (freeHead != NONE) {
      int slot = freeHead;
      freeHead = next[slot];
      return slot;
    }
    if (highWater == pageOf.length) {
      int grown = (int) Math.min(capacity, 2L * pageOf.length);
      pageOf = Arrays.copyOf(pageOf, grown);
      prev = Arrays.copyOf(prev, grown);
      next = Arrays.copyOf(next, grown);
      segment = Arrays.copyOf(segment, grown);
    }
    return highWater++;
  }

  /** Takes slot's page out of the table and slot out of its segment's list. */
  private void forget(int slot) {
    unplace(slot);
    unlink(slot);
  }

  /** Fibonacci hashing: consecutive pages, the common case, spread over the whole table. */
  private int home(long page) {
    return (int) ((page * 0x9E3779B97F4A7C15L) >>> shift);
  }

  private void place(long page, int slot) {
    int mask = table.length - 1;
    int i = home(page);
    while (table[i] != 0) {
      i = (i + 1) & mask;
    }
    table[i] = slot + 1;
  }

  /**
   * Empties slot's table entry and moves later entries of the probe run back into the gap when
   * their home allows it, so every remaining page is still found before the first empty entry.
   */
  private void unplace(int slot) {
    int mask = table.length - 1;
    int gap = home(pageOf[slot]);
    while (table[gap] != slot + 1) {
      gap = (gap + 1) & mask;
    }
    for (int i = (gap + 1) & mask; table[i] != 0; i = (i + 1) & mask) {
      int entryHome = home(pageOf[table[i] - 1]);
      if (((i - entryHome) & mask) >= ((i - gap) & mask)) {
        table[gap] = table[i];
        gap = i;
      }
    }
    table[gap] = 0;
  }

  private void rehash(int length) {
    table = new int[length];
    shift = 64 - Integer.numberOfTrailingZeros(length);
    for (int slot = 0; slot < highWater; slot++) {
      if (segment[slot] != FREE) {
        place(pageOf[slot], slot);
      }
    }
  }

  private void append(byte seg, int slot) {
    segment[slot] = seg;
    prev[slot] = tail[seg];
    next[slot] = NONE;
    if (tail[seg] == NONE) {
      head[seg] = slot;
    } else {
      next[tail[seg]] = slot;
    }
    tail[seg] = slot;
    count[seg]++;
  }

  private void unlink(int slot) {
    byte seg = segment[slot];
    int before = prev[slot];
    int after = next[slot];
    if (before == NONE) {
      head[seg] = after;
    } else {
      next[before] = after;
    }
    if (after == NONE) {
      tail[seg] = before;
    } else {
      prev[after] = before;
    }
    count[seg]--;
  }
}
