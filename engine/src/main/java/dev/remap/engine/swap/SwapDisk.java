package dev.remap.engine.swap;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.Capabilities;
import dev.remap.engine.block.DeviceException;
import dev.remap.engine.block.PagedDevice;
import dev.remap.engine.store.NoSpaceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A VM's swap disk (seed 000): a page table from disk pages to pages of the node's pool, or to
 * slots of the disk's spill file.
 * <ul>
 *   <li>Swap-out is a write: the payload arrives in fresh pool pages ({@link #receive}), which
 *       then become the disk pages' physical units; the pages they had go back to the pool
 *       (claims 1–3).
 *   <li>Swap-in is a read: the reply is sent from the mapped pages ({@link #send}); a spilled page
 *       is loaded into a fresh pool page and mapped first (claims 5–6). A read releases nothing:
 *       the guest's swap cache reads slots again, and swapoff reads them all.
 *   <li>When the disk holds its memoryLimit, the coldest pages (a CLOCK over the table) go to the
 *       spill file. TRIM and WRITE_ZEROES release pages and slots.
 * </ul>
 * Nothing here is durable: the pages live in memory and the spill file is never synced.
 *
 * <p>Locking: {@code lock} guards the table, the clock, the spill file and the counters. Spill
 * I/O happens under it: one disk is one guest's swap, whose requests are few at a time.
 * Payloads move into and out of the pages outside it (the socket fills a received page that no
 * one else sees yet; a page being sent holds a pool reference, so nothing reuses it meanwhile).
 */
public final class SwapDisk implements BlockDevice, PagedDevice {

  private static final int PAGE = PagePool.PAGE;
  /** Pages evicted at once when the disk needs room: a spill pass costs a clock walk. */
  private static final int EVICT_BATCH = 32;
  private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(PAGE).asReadOnlyBuffer();
  /** A page WRITE_ZEROES with NO_HOLE left: reads as zeros, reported as data, holds no page or slot. */
  private static final int ZEROED = Integer.MIN_VALUE;

  private final SwapSpec spec;
  private final PagePool.Reservation memory;
  private final SpillFile spill;
  private final IntConsumer receivedInto;
  private final ReentrantLock lock = new ReentrantLock();
  /** 0 empty; page + 1 for a pool page; -(slot + 1) for a spill slot; {@link #ZEROED} for zeroes kept allocated. */
  private final int[] table;
  private final BitSet referenced = new BitSet();
  private int hand;
  private int resident;
  private boolean closed;
  private long swapOuts;
  private long swapIns;
  private long remaps;
  private long pagesReleased;
  private long spillWrites;
  private long spillLoads;
  private long discards;
  private long bytesCopied;

  private SwapDisk(SwapSpec spec, PagePool.Reservation memory, SpillFile spill, IntConsumer receivedInto) {
    this.spec = spec;
    this.memory = memory;
    this.spill = spill;
    this.receivedInto = receivedInto;
    this.table = new int[Math.toIntExact(spec.pages())];
  }

  /**
   * Creates a disk: reserves its memoryLimit in the pool, creates its spill file, and writes the
   * swap signature if the spec has a label.
   *
   * @param receivedInto told of every page a write is received into (tests check page identity with it)
   * @throws PoolExhaustedException when the pool cannot promise the memoryLimit
   * @throws IOException when the spill location cannot hold the spill file (naming it)
   */
  public static SwapDisk create(PagePool pool, SwapSpec spec, IntConsumer receivedInto) throws IOException {
    if (spec.pages() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("swap disk " + spec.name() + " is larger than 8 TiB: " + spec.size());
    }
    long limit = Math.min(spec.memoryLimit(), spec.size());
    PagePool.Reservation memory = pool.reserve("swap disk " + spec.name(), limit);
    SpillFile spill = null;
    try {
      if (spec.spill().isPresent()) {
        spill = SpillFile.create(spec.name(), spec.spill().get());
      }
      SwapDisk disk = new SwapDisk(spec, memory, spill, receivedInto);
      spec.label().ifPresent(label -> disk.format(label));
      return disk;
    } catch (IOException | RuntimeException e) {
      if (spill != null) {
        spill.close();
      }
      memory.close();
      throw e;
    }
  }

  public static SwapDisk create(PagePool pool, SwapSpec spec) throws IOException {
    return create(pool, spec, page -> { });
  }

  /** Page 0 holds a swap signature: a generated page, not a guest's data. */
  private void format(String label) {
    int page = memory.allocate();
    SwapHeader.write(memory.pool().view(page), spec.pages(), label, UUID.randomUUID());
    table[0] = page + 1;
    resident++;
  }

  public SwapSpec spec() {
    return spec;
  }

  public SwapCounters counters() {
    lock.lock();
    try {
      return new SwapCounters(swapOuts, swapIns, remaps, pagesReleased, spillWrites, spillLoads, discards,
          bytesCopied, (long) resident * PAGE, spill == null ? 0 : (long) spill.used() * PAGE);
    } finally {
      lock.unlock();
    }
  }

  /** The pool page mapped at each disk page of the range, or -1 where none is (for tests of identity). */
  public int[] mappedPages(long offset, long length) {
    lock.lock();
    try {
      int first = (int) (offset / PAGE);
      int last = (int) ((offset + length - 1) / PAGE);
      int[] pages = new int[last - first + 1];
      for (int p = first; p <= last; p++) {
        pages[p - first] = table[p] > 0 ? table[p] - 1 : -1;
      }
      return pages;
    } finally {
      lock.unlock();
    }
  }

  // The paged front-end's path: no copies.

  /** Half the disk's share of the pool: a request's pages fit beside the pages just mapped. */
  @Override
  public int maxRequest() {
    return (int) Math.min(1 << 30, (long) Math.max(1, memory.pages() / 2) * PAGE);
  }

  /** Splits [offset, offset + length) at page boundaries into pieces of at most {@link #maxRequest}. */
  public static void pieces(long offset, long length, int max, Piece piece) throws IOException {
    long end = offset + length;
    for (long at = offset; at < end; ) {
      long to = Math.min(end, at / PAGE * PAGE + max);
      piece.run(at, (int) (to - at));
      at = to;
    }
  }

  /** One piece of a split request. */
  @FunctionalInterface
  public interface Piece {
    void run(long offset, int length) throws IOException;
  }

  @Override
  public Incoming receive(long offset, int length) throws IOException {
    check(offset, length);
    int first = (int) (offset / PAGE);
    int last = (int) ((offset + length - 1) / PAGE);
    int count = last - first + 1;
    int[] pages = new int[count];
    ByteBuffer[] buffers = new ByteBuffer[count];
    int allocated = 0;
    lock.lock();
    try {
      open();
      makeRoom(count);
      for (int i = 0; i < count; i++) {
        int p = first + i;
        int from = i == 0 ? (int) (offset % PAGE) : 0;
        int to = p == last ? (int) ((offset + length - 1) % PAGE) + 1 : PAGE;
        pages[i] = memory.allocate();
        allocated++;
        ByteBuffer view = memory.pool().view(pages[i]);
        if (from > 0 || to < PAGE) {
          keepRest(p, view, from, to);
        }
        buffers[i] = view.slice(from, to - from);
        receivedInto.accept(pages[i]);
      }
    } catch (IOException | RuntimeException e) {
      releaseAllocated(pages, allocated);
      throw e;
    } finally {
      lock.unlock();
    }
    return new Incoming() {
      private boolean done;

      @Override
      public ByteBuffer[] buffers() {
        return buffers;
      }

      @Override
      public void commit() throws IOException {
        if (done) {
          throw new IllegalStateException("a write's pages are committed once");
        }
        done = true;
        map(first, pages);
      }

      @Override
      public void abandon() {
        if (!done) {
          done = true;
          lock.lock();
          try {
            releaseAllocated(pages, pages.length);
          } finally {
            lock.unlock();
          }
        }
      }
    };
  }

  /** Frees the first count pages of a receive that will not be committed. */
  private void releaseAllocated(int[] pages, int count) {
    for (int i = 0; i < count; i++) {
      memory.free(pages[i]);
    }
  }

  /** A partial-page write keeps the rest of the page's old bytes: the one copy a write may cost. */
  private void keepRest(int p, ByteBuffer fresh, int from, int to) throws IOException {
    int e = table[p];
    if (e == 0 || e == ZEROED) {
      fresh.put(0, ZERO, 0, PAGE);
      return;
    }
    if (e < 0) {
      spill.read(-e - 1, fresh);
      return;
    }
    ByteBuffer old = memory.pool().view(e - 1);
    fresh.put(0, old, 0, from);
    fresh.put(to, old, to, PAGE - to);
    bytesCopied += PAGE - (to - from);
  }

  /** Points pages first.. at the received pages and releases what they had (claims 1 and 2). */
  private void map(int first, int[] pages) throws IOException {
    lock.lock();
    try {
      if (closed) {
        for (int page : pages) {
          memory.pool().release(page);
        }
        throw DeviceException.closed("swap disk " + spec.name() + " is closed");
      }
      for (int i = 0; i < pages.length; i++) {
        int p = first + i;
        int old = table[p];
        table[p] = pages[i] + 1;
        referenced.set(p);
        if (old > 0) {
          memory.free(old - 1);
          pagesReleased++;
        } else {
          resident++;
          if (old < 0 && old != ZEROED) {
            spill.free(-old - 1);
          }
        }
      }
      swapOuts += pages.length;
      remaps += pages.length;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Outgoing send(long offset, int length) throws IOException {
    check(offset, length);
    int first = (int) (offset / PAGE);
    int last = (int) ((offset + length - 1) / PAGE);
    List<ByteBuffer> buffers = new ArrayList<>(last - first + 1);
    int[] held = new int[last - first + 1];
    int heldCount = 0;
    lock.lock();
    try {
      open();
      for (int p = first; p <= last; p++) {
        int from = p == first ? (int) (offset % PAGE) : 0;
        int to = p == last ? (int) ((offset + length - 1) % PAGE) + 1 : PAGE;
        int e = table[p];
        if (e < 0 && e != ZEROED) {
          e = load(p, -e - 1) + 1;
        }
        if (e <= 0) {
          buffers.add(ZERO.slice(from, to - from));
        } else {
          memory.pool().retain(e - 1);
          held[heldCount++] = e - 1;
          referenced.set(p);
          buffers.add(memory.pool().view(e - 1).slice(from, to - from).asReadOnlyBuffer());
        }
      }
      swapIns += last - first + 1;
      restoreHeadroom();
    } catch (IOException | RuntimeException e) {
      for (int i = 0; i < heldCount; i++) {
        memory.pool().release(held[i]);
      }
      throw e;
    } finally {
      lock.unlock();
    }
    ByteBuffer[] views = buffers.toArray(ByteBuffer[]::new);
    int count = heldCount;
    return new Outgoing() {
      private boolean closed;

      @Override
      public ByteBuffer[] buffers() {
        return views;
      }

      @Override
      public void close() {
        if (!closed) {
          closed = true;
          for (int i = 0; i < count; i++) {
            memory.pool().release(held[i]);
          }
        }
      }
    };
  }

  /**
   * Loads a spilled page into a fresh pool page and maps it (claim 6); the page. It may take the
   * page writes leave free ({@link #headroom}); the read gives that back when its pages are held
   * ({@link #restoreHeadroom}), by spilling a cold page into a slot a load freed, so that a read
   * works even when the pool share and the spill file are both full.
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
    referenced.set(p);
    resident++;
    spillLoads++;
    remaps++;
    return page;
  }

  /** After loads, spills cold pages until writes find their spare page again (the slots the loads freed take them). */
  private void restoreHeadroom() throws IOException {
    int free = memory.pages() - memory.held();
    if (free < headroom()) {
      evict(headroom() - free);
    }
  }

  /** Pages writes leave free for loads: one when there is a spill tier (a load needs a page before it frees a slot). */
  private int headroom() {
    return spill == null ? 0 : 1;
  }

  private void makeRoom(int count) throws IOException {
    makeRoom(count, headroom());
  }

  /**
   * Makes sure the disk's share has count pages free beside spare, spilling the coldest resident
   * pages (CLOCK: a page read or written since the hand last passed gets a second chance).
   */
  private void makeRoom(int count, int spare) throws IOException {
    if (count + spare > memory.pages()) {
      throw new NoSpaceException("a request of " + count + " pages is larger than the memoryLimit of swap disk "
          + spec.name() + " allows at once");
    }
    int free = memory.pages() - memory.held();
    int wanted = count + spare - free;
    if (wanted <= 0) {
      return;
    }
    if (spill == null) {
      throw new NoSpaceException("swap disk " + spec.name() + " holds all " + memory.pages()
          + " pages of its memoryLimit and has no spill tier");
    }
    int target = Math.max(wanted, Math.min(EVICT_BATCH, memory.held()));
    int evicted = evict(Math.min(target, spillRoom()));
    if (evicted < wanted) {
      throw new NoSpaceException("swap disk " + spec.name() + " has no room: its memoryLimit and its spill tier ("
          + spill.path() + ") are full");
    }
  }

  private int spillRoom() {
    return spill.capacity() - spill.used();
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

  // Release (claim 2's other half): TRIM and WRITE_ZEROES.

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    discard(offset, length, 0);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    discard(offset, length, noHole ? ZEROED : 0);
  }

  /**
   * Whole pages of the range are released (left as {@code to}: a hole, or zeroes kept allocated);
   * the bytes of partial pages at its ends are zeroed.
   */
  private void discard(long offset, long length, int to) throws IOException {
    check(offset, length);
    long end = offset + length;
    long firstWhole = (offset + PAGE - 1) / PAGE;
    long endWhole = end / PAGE;
    if (firstWhole >= endWhole) {
      zero(offset, length);
      return;
    }
    if (offset % PAGE != 0) {
      zero(offset, firstWhole * PAGE - offset);
    }
    lock.lock();
    try {
      open();
      for (int p = (int) firstWhole; p < endWhole; p++) {
        int e = table[p];
        table[p] = to;
        referenced.clear(p);
        if (e == 0 || e == ZEROED) {
          continue;
        }
        if (e > 0) {
          memory.free(e - 1);
          resident--;
        } else {
          spill.free(-e - 1);
        }
        discards++;
      }
    } finally {
      lock.unlock();
    }
    if (end % PAGE != 0) {
      zero(endWhole * PAGE, end - endWhole * PAGE);
    }
  }

  private void zero(long offset, long length) throws IOException {
    pieces(offset, length, maxRequest(), (at, n) -> {
      Incoming in = receive(at, n);
      for (ByteBuffer b : in.buffers()) {
        b.put(0, ZERO, 0, b.remaining());
      }
      in.commit();
    });
  }

  // The plain block device path (tests, tools): the same, with the copy into or out of the caller's buffer counted.

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    check(offset, dst.remaining());
    pieces(offset, dst.remaining(), maxRequest(), (at, length) -> {
      try (Outgoing out = send(at, length)) {
        for (ByteBuffer b : out.buffers()) {
          dst.put(b.duplicate());
        }
        copied(length);
      }
    });
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    check(offset, src.remaining());
    pieces(offset, src.remaining(), maxRequest(), (at, length) -> {
      Incoming in = receive(at, length);
      for (ByteBuffer b : in.buffers()) {
        b.put(0, src, src.position(), b.remaining());
        src.position(src.position() + b.remaining());
      }
      copied(length);
      in.commit();
    });
  }

  @Override
  public void copied(long bytes) {
    lock.lock();
    try {
      bytesCopied += bytes;
    } finally {
      lock.unlock();
    }
  }

  /** Nothing to make durable: swap is not (docs/SWAP.md). */
  @Override
  public void flush() {
  }

  @Override
  public List<Extent> extents(long offset, long length) throws IOException {
    check(offset, length);
    List<Extent> extents = new ArrayList<>();
    lock.lock();
    try {
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
    } finally {
      lock.unlock();
    }
    return extents;
  }

  @Override
  public long size() {
    return spec.size();
  }

  @Override
  public int blockSize() {
    return PAGE;
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  /** Trims when the spec allows discards; no FUA: nothing here is durable, so nothing is promised. */
  @Override
  public Capabilities capabilities() {
    return new Capabilities(false, spec.discard(), true, false, spec.size());
  }

  private void check(long offset, long length) {
    if (offset < 0 || length <= 0 || offset > spec.size() || length > spec.size() - offset) {
      throw new IllegalArgumentException("range offset=" + offset + " length=" + length
          + " is outside swap disk " + spec.name() + " (size " + spec.size() + ")");
    }
  }

  private void open() throws DeviceException {
    if (closed) {
      throw DeviceException.closed("swap disk " + spec.name() + " is closed");
    }
  }

  /** Frees every page and slot, deletes the spill file and gives the reservation back. */
  @Override
  public void close() throws IOException {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
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
    } finally {
      lock.unlock();
    }
  }
}
