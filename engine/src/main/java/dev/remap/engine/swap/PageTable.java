package dev.remap.engine.swap;

import dev.remap.engine.block.BlockDevice.Extent;
import dev.remap.engine.store.NoSpaceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Where each page of one swap disk lives: a pool page, a slot of the spill file, nowhere (a
 * hole), or nowhere but reported allocated (zeroes kept by WRITE_ZEROES with NO_HOLE). It moves
 * pages between the pool and the spill file (CLOCK eviction, loads) and keeps the counts of what
 * that took.
 *
 * <p>Not thread-safe: its {@link SwapDisk} calls it under the disk's lock.
 */
final class PageTable {

  static final int PAGE = PagePool.PAGE;
  /** Pages evicted at once when the disk needs room: a spill pass costs a clock walk. */
  private static final int EVICT_BATCH = 32;
  /** A page WRITE_ZEROES with NO_HOLE left: reads as zeros, reported as data, holds no page or slot. */
  private static final int ZEROED = Integer.MIN_VALUE;
  static final ByteBuffer ZERO = ByteBuffer.allocateDirect(PAGE).asReadOnlyBuffer();

  private final String disk;
  private final PagePool.Reservation memory;
  private final SpillFile spill;
  /** 0 empty; page + 1 for a pool page; -(slot + 1) for a spill slot; {@link #ZEROED}. */
  private final int[] table;
  /** CLOCK's bits: read or written since the hand last passed. */
  private final BitSet referenced = new BitSet();
  private int hand;
  private int resident;
  long spillWrites;
  long spillLoads;

  PageTable(String disk, int pages, PagePool.Reservation memory, SpillFile spill) {
    this.disk = disk;
    this.table = new int[pages];
    this.memory = memory;
    this.spill = spill;
  }

  PagePool pool() {
    return memory.pool();
  }

  int residentPages() {
    return resident;
  }

  int spilledPages() {
    return spill == null ? 0 : spill.used();
  }

  /** The pool page at p, or -1. */
  int pageAt(int p) {
    return table[p] > 0 ? table[p] - 1 : -1;
  }

  /** Half the disk's share: a request's pages fit beside the pages just mapped. */
  int maxPages() {
    return Math.max(1, memory.pages() / 2);
  }

  /** A fresh page for a write, counted against the disk's share (room must have been made). */
  int allocate() {
    return memory.allocate();
  }

  void free(int page) {
    memory.free(page);
  }

  /** Maps p to a page nobody else has seen yet (a generated page, such as the swap signature). */
  void put(int p, int page) {
    table[p] = page + 1;
    resident++;
  }

  /**
   * Fills the bytes of fresh outside [from, to) from what p holds now: the rest of a partial-page
   * write. Returns the bytes copied from a pool page (zeros and spill reads are not copies).
   */
  int keepRest(int p, ByteBuffer fresh, int from, int to) throws IOException {
    int e = table[p];
    if (e == 0 || e == ZEROED) {
      fresh.put(0, ZERO, 0, PAGE);
      return 0;
    }
    if (e < 0) {
      spill.read(-e - 1, fresh);
      return 0;
    }
    ByteBuffer old = memory.pool().view(e - 1);
    fresh.put(0, old, 0, from);
    fresh.put(to, old, to, PAGE - to);
    return PAGE - (to - from);
  }

  /**
   * Whether a write of count pages is to fill the pages it replaces: only on a disk without a
   * spill tier whose share has fewer than count pages free. Such a disk reserves its size, so
   * once the guest has used every page an overwrite finds no fresh page; it then takes the one it
   * overwrites ({@link #takeInPlace}), still without a copy.
   */
  boolean fillsInPlace(int count) {
    return spill == null && memory.pages() - memory.held() < count;
  }

  /**
   * The pool page mapped at p, held for a write to fill in place (a reference, so nothing reuses
   * it if another write replaces it meanwhile), or -1 when p has no page or a reply is being sent
   * from it (that reply must not see the new bytes arrive). The reference is dropped when the
   * write ends ({@link #mapReceived}, {@link #giveBack}).
   */
  int takeInPlace(int p) {
    int e = table[p];
    if (e <= 0 || memory.pool().pinned(e - 1)) {
      return -1;
    }
    memory.pool().retain(e - 1);
    referenced.set(p);
    return e - 1;
  }

  /**
   * Lets go of the first count pages of a receive that will not be committed: fresh pages are
   * freed; pages filled in place stay mapped, holding what of the payload arrived (a failed write
   * may change its range, as NBD allows), and lose the write's reference.
   */
  void giveBack(int[] pages, boolean[] inPlace, int count) {
    for (int i = 0; i < count; i++) {
      if (inPlace[i]) {
        memory.pool().release(pages[i]);
      } else {
        memory.free(pages[i]);
      }
    }
  }

  /**
   * Maps disk pages first.. to the pages a write was received into; a page filled in place is
   * where its disk page already lives (unless a write committed since replaced it: overlapping
   * writes in flight at once have no order) and only loses the write's reference. Returns how
   * many pool pages the mapping released.
   */
  int mapReceived(int first, int[] pages, boolean[] inPlace) {
    int released = 0;
    for (int i = 0; i < pages.length; i++) {
      if (inPlace[i]) {
        memory.pool().release(pages[i]);
      } else if (map(first + i, pages[i])) {
        released++;
      }
    }
    return released;
  }

  /** p now lives in page; true when that replaced a pool page, which is released (claim 2). */
  boolean map(int p, int page) {
    int old = table[p];
    table[p] = page + 1;
    referenced.set(p);
    if (old > 0) {
      memory.free(old - 1);
      return true;
    }
    resident++;
    if (old < 0 && old != ZEROED) {
      spill.free(-old - 1);
    }
    return false;
  }

  /**
   * The pool page holding p, loaded from the spill file into a fresh page first if it is there
   * (claim 6), and marked as read; -1 for a page that reads as zeros.
   */
  int resident(int p) throws IOException {
    int e = table[p];
    if (e == 0 || e == ZEROED) {
      return -1;
    }
    if (e < 0) {
      e = load(p, -e - 1) + 1;
    }
    referenced.set(p);
    return e - 1;
  }

  /**
   * Loads a spilled page into a fresh pool page and maps it. It may take the page writes leave
   * free ({@link #headroom}); the read gives it back once its pages are held ({@link
   * #restoreHeadroom}), by spilling a cold page into a slot a load freed, so that a read works
   * even when the pool share and the spill file are both full.
   */
  private int load(int p, int slot) throws IOException {
    makeRoom(1, 0);
    int page = memory.allocate();
    try {
      spill.read(slot, memory.pool().view(page));
    } catch (IOException e) {
      memory.free(page);
      throw e;
    }
    spill.free(slot);
    table[p] = page + 1;
    resident++;
    spillLoads++;
    return page;
  }

  /** After loads, spills cold pages until writes find their spare page again. */
  void restoreHeadroom() throws IOException {
    int free = memory.pages() - memory.held();
    if (free < headroom()) {
      evict(headroom() - free);
    }
  }

  /** Pages writes leave free for loads: one when there is a spill tier (a load needs a page before it frees a slot). */
  private int headroom() {
    return spill == null ? 0 : 1;
  }

  /** Makes room for a write of count pages. */
  void makeRoom(int count) throws IOException {
    makeRoom(count, headroom());
  }

  /**
   * Makes sure the disk's share has count pages free beside spare, spilling the coldest resident
   * pages (CLOCK: a page read or written since the hand last passed gets a second chance).
   */
  private void makeRoom(int count, int spare) throws IOException {
    if (count + spare > memory.pages()) {
      throw new NoSpaceException("a request of " + count + " pages is larger than the memoryLimit of swap disk "
          + disk + " allows at once");
    }
    int wanted = count + spare - (memory.pages() - memory.held());
    if (wanted <= 0) {
      return;
    }
    if (spill == null) {
      throw new NoSpaceException("swap disk " + disk + " holds all " + memory.pages()
          + " pages of its memoryLimit and has no spill tier");
    }
    int target = Math.max(wanted, Math.min(EVICT_BATCH, memory.held()));
    int evicted = evict(Math.min(target, spill.capacity() - spill.used()));
    if (evicted < wanted) {
      throw new NoSpaceException("swap disk " + disk + " has no room: its memoryLimit and its spill tier ("
          + spill.path() + ") are full");
    }
  }

  /** Spills up to count of the coldest resident pages; the number spilled. */
  private int evict(int count) throws IOException {
    int evicted = 0;
    for (long steps = 0; evicted < count && steps < 2L * table.length + 1 && !spill.full(); steps++) {
      hand = hand + 1 == table.length ? 0 : hand + 1;
      int e = table[hand];
      if (e <= 0 || memory.pool().pinned(e - 1)) {
        // A page a reply is being sent from stays: its memory is not free until the send ends.
        continue;
      }
      if (referenced.get(hand)) {
        referenced.clear(hand);
        continue;
      }
      int slot = spill.write(memory.pool().view(e - 1));
      table[hand] = -(slot + 1);
      memory.free(e - 1);
      resident--;
      spillWrites++;
      evicted++;
    }
    return evicted;
  }

  /** Releases p's page or slot, leaving a hole or (noHole) zeroes; true if it held data. */
  boolean release(int p, boolean noHole) {
    int e = table[p];
    table[p] = noHole ? ZEROED : 0;
    referenced.clear(p);
    if (e == 0 || e == ZEROED) {
      return false;
    }
    if (e > 0) {
      memory.free(e - 1);
      resident--;
    } else {
      spill.free(-e - 1);
    }
    return true;
  }

  /** Allocation status of [offset, offset + length): holes, zeroes kept allocated, and data. */
  List<Extent> extents(long offset, long length) {
    List<Extent> extents = new ArrayList<>();
    long at = offset;
    long end = offset + length;
    while (at < end) {
      int e = table[(int) (at / PAGE)];
      boolean hole = e == 0;
      boolean zero = e == 0 || e == ZEROED;
      long next = Math.min(end, (at / PAGE + 1) * PAGE);
      Extent last = extents.isEmpty() ? null : extents.get(extents.size() - 1);
      if (last != null && last.hole() == hole && last.zero() == zero) {
        extents.set(extents.size() - 1, new Extent(last.offset(), next - last.offset(), hole, zero));
      } else {
        extents.add(new Extent(at, next - at, hole, zero));
      }
      at = next;
    }
    return extents;
  }

  /** Frees every page and slot and gives the share back (the disk is being removed). */
  void freeAll() throws IOException {
    for (int p = 0; p < table.length; p++) {
      if (table[p] > 0) {
        memory.free(table[p] - 1);
      }
      table[p] = 0;
    }
    resident = 0;
    memory.close();
    if (spill != null) {
      spill.close();
    }
  }
}
