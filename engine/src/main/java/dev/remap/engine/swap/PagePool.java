package dev.remap.engine.swap;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A node's memory for swapped-out pages: 4 KiB pages of off-heap memory, allocated in chunks as
 * they are first needed, never more than the node's cap. These pages are the physical units of
 * every swap disk on the node: a page the socket read a guest's swap-out into is the page the
 * disk then maps (seed 000, claim 1), and a page a disk no longer maps goes back here for any
 * disk to use (claim 2).
 *
 * <p>Admission: a disk reserves its {@code memoryLimit} when it is created ({@link #reserve}), and
 * the sum of reservations never exceeds the cap, so a disk that stays within its reservation
 * always finds a free page and one disk can never starve another.
 *
 * <p>Pages are counted references: a page is 1 while a disk maps it, and each reply being sent
 * from it adds one, so a page a write replaces while a read of it is still on its way to the
 * socket is reused only when that send is done.
 *
 * <p>Locking: {@code this} guards the free list, the growth of the chunks and the reservations'
 * totals. Finding a page's memory and its reference count takes no lock (every request does it
 * for every page): the chunks are published as a new array each time the pool grows, and a page
 * is handed out only after its chunk is.
 */
public final class PagePool {

  public static final int PAGE = 4096;
  private static final int CHUNK_SHIFT = 9;
  /** Pages per chunk: 2 MiB of memory per allocation. */
  private static final int CHUNK_PAGES = 1 << CHUNK_SHIFT;

  private final long capBytes;
  private final int capPages;
  /** Replaced whole (under {@code this}) when the pool grows; read without the lock. */
  private volatile Chunk[] chunks = new Chunk[0];
  private int[] free = new int[CHUNK_PAGES];
  private int freeCount;
  private long reservedPages;

  /** 2 MiB of pages and their reference counts. */
  private record Chunk(ByteBuffer memory, AtomicIntegerArray refs) {}

  /** A pool of at most capBytes of pages (rounded down to whole pages). */
  public PagePool(long capBytes) {
    if (capBytes < PAGE) {
      throw new IllegalArgumentException("the swap pool's cap must hold at least one 4096-byte page: " + capBytes);
    }
    this.capPages = (int) Math.min(Integer.MAX_VALUE - CHUNK_PAGES, capBytes / PAGE);
    this.capBytes = (long) capPages * PAGE;
  }

  public long capBytes() {
    return capBytes;
  }

  /** Bytes promised to swap disks now. */
  public synchronized long reservedBytes() {
    return reservedPages * PAGE;
  }

  /**
   * Promises bytes (whole pages, rounded up) to one swap disk.
   *
   * @throws PoolExhaustedException when the cap cannot hold it beside what is promised already
   */
  public synchronized Reservation reserve(String owner, long bytes) throws PoolExhaustedException {
    long pages = (bytes + PAGE - 1) / PAGE;
    if (pages > capPages - reservedPages) {
      throw new PoolExhaustedException(owner + " asks for " + bytes + " bytes of the swap pool, which holds "
          + capBytes + " bytes and has promised " + reservedPages * PAGE + " of them already");
    }
    reservedPages += pages;
    return new Reservation(owner, (int) pages);
  }

  private synchronized void unreserve(int pages) {
    reservedPages -= pages;
  }

  /** A page from the free list (its old contents still in it), growing the pool by a chunk if needed. */
  private synchronized int take() {
    if (freeCount == 0) {
      grow();
    }
    int page = free[--freeCount];
    refs(page).set(page & (CHUNK_PAGES - 1), 1);
    return page;
  }

  private void grow() {
    int chunk = chunks.length;
    if ((long) (chunk + 1) * CHUNK_PAGES > capPages + CHUNK_PAGES) {
      // Reservations never let this happen; it would be a bug in a caller's accounting.
      throw new IllegalStateException("the swap pool is at its cap of " + capBytes + " bytes");
    }
    Chunk[] grown = Arrays.copyOf(chunks, chunk + 1);
    grown[chunk] = new Chunk(ByteBuffer.allocateDirect(CHUNK_PAGES * PAGE), new AtomicIntegerArray(CHUNK_PAGES));
    chunks = grown;
    // Room for every page of every chunk: all of them may be free at once.
    int total = grown.length * CHUNK_PAGES;
    if (free.length < total) {
      free = Arrays.copyOf(free, Math.max(free.length * 2, total));
    }
    for (int i = CHUNK_PAGES - 1; i >= 0; i--) {
      free[freeCount++] = (chunk << CHUNK_SHIFT) | i;
    }
  }

  private synchronized void giveBack(int page) {
    free[freeCount++] = page;
  }

  /** A view of the page's 4096 bytes (position 0, limit 4096); independent of other views. */
  public ByteBuffer view(int page) {
    return chunks[page >>> CHUNK_SHIFT].memory().slice((page & (CHUNK_PAGES - 1)) * PAGE, PAGE);
  }

  /** Adds a reference to a mapped page (a reply being sent from it). */
  public void retain(int page) {
    int before = refs(page).getAndIncrement(page & (CHUNK_PAGES - 1));
    if (before <= 0) {
      throw new IllegalStateException("page " + page + " is not in use");
    }
  }

  /** Whether a reply is being sent from the page now (a reference beside its disk's). */
  public boolean pinned(int page) {
    return refs(page).get(page & (CHUNK_PAGES - 1)) > 1;
  }

  /** Drops a reference; the last one puts the page back on the free list. */
  public void release(int page) {
    int after = refs(page).decrementAndGet(page & (CHUNK_PAGES - 1));
    if (after == 0) {
      giveBack(page);
    } else if (after < 0) {
      throw new IllegalStateException("page " + page + " was released more often than it was taken");
    }
  }

  private AtomicIntegerArray refs(int page) {
    return chunks[page >>> CHUNK_SHIFT].refs();
  }

  /** Pages in use now (mapped by a disk, being received into, or being sent from). */
  public synchronized long pagesInUse() {
    return (long) chunks.length * CHUNK_PAGES - freeCount;
  }

  /**
   * One disk's share of the pool: it may hold at most its pages at once. Not thread-safe: its
   * disk calls it under the disk's own lock.
   */
  public final class Reservation implements AutoCloseable {
    private final String owner;
    private final int pages;
    private int held;
    private boolean closed;

    private Reservation(String owner, int pages) {
      this.owner = owner;
      this.pages = pages;
    }

    public int pages() {
      return pages;
    }

    /** Pages this reservation holds now. */
    public int held() {
      return held;
    }

    /** A free page for this disk, counted against its share (reference 1). */
    public int allocate() {
      if (closed) {
        throw new IllegalStateException(owner + " is closed");
      }
      if (held >= pages) {
        throw new IllegalStateException(owner + " holds all " + pages + " pages it reserved");
      }
      held++;
      return take();
    }

    /** The disk lets go of a page: its reference is dropped and its share freed. */
    public void free(int page) {
      held--;
      release(page);
    }

    public PagePool pool() {
      return PagePool.this;
    }

    /** Gives the share back; the disk must have freed its pages first. */
    @Override
    public void close() {
      if (!closed) {
        closed = true;
        unreserve(pages);
      }
    }
  }
}
