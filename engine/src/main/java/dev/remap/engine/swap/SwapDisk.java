package dev.remap.engine.swap;

import dev.remap.engine.block.Capabilities;
import dev.remap.engine.block.DeviceException;
import dev.remap.engine.block.PagedDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A VM's swap disk (seed 000): a {@link PageTable} from disk pages to pages of the node's pool,
 * or to slots of the disk's spill file.
 * <ul>
 *   <li>Swap-out is a write: the payload arrives in fresh pool pages ({@link #receive}), which
 *       then become the disk pages' physical units; the pages they had go back to the pool
 *       (claims 1–3). A disk without a spill tier reserves only its size, so once every page of
 *       it is in use an overwrite arrives in the pages it replaces instead (no copy either way).
 *   <li>Swap-in is a read: the reply is sent from the mapped pages ({@link #send}); a spilled page
 *       is loaded into a fresh pool page and mapped first (claims 5–6). A read releases nothing:
 *       the guest's swap cache reads slots again, and swapoff reads them all.
 *   <li>When the disk holds its memoryLimit, the coldest pages go to the spill file. TRIM and
 *       WRITE_ZEROES release pages and slots.
 * </ul>
 * Nothing here is durable: the pages live in memory and the spill file is never synced.
 *
 * <p>Locking: {@code lock} guards the table (with the spill file) and the counters. Spill I/O
 * happens under it: one disk is one guest's swap, whose requests are few at a time. Payloads
 * move into and out of the pages outside it (the socket fills a received page that no one else
 * sees yet; a page being sent holds a pool reference, so nothing reuses it meanwhile).
 */
public final class SwapDisk implements PagedDevice {

  private static final int PAGE = PageTable.PAGE;

  private final SwapSpec spec;
  private final PageTable table;
  private final PagePool pool;
  private final IntConsumer receivedInto;
  private final ReentrantLock lock = new ReentrantLock();
  private boolean closed;
  private long swapOuts;
  private long swapIns;
  private long remaps;
  private long pagesReleased;
  private long discards;
  private long bytesCopied;

  private SwapDisk(SwapSpec spec, PageTable table, IntConsumer receivedInto) {
    this.spec = spec;
    this.table = table;
    this.pool = table.pool();
    this.receivedInto = receivedInto;
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
    PagePool.Reservation memory = pool.reserve("swap disk " + spec.name(), Math.min(spec.memoryLimit(), spec.size()));
    SpillFile spill = null;
    try {
      if (spec.spill().isPresent()) {
        spill = SpillFile.create(spec.name(), spec.spill().get());
      }
      PageTable table = new PageTable(spec.name(), (int) spec.pages(), memory, spill);
      spec.label().ifPresent(label -> {
        // Page 0 holds a swap signature: a generated page, not a guest's data.
        int page = table.allocate();
        SwapHeader.write(pool.view(page), spec.pages(), label, UUID.randomUUID());
        table.put(0, page);
      });
      return new SwapDisk(spec, table, receivedInto);
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

  public SwapSpec spec() {
    return spec;
  }

  public SwapCounters counters() {
    lock.lock();
    try {
      return new SwapCounters(swapOuts, swapIns, remaps + table.spillLoads, pagesReleased, table.spillWrites,
          table.spillLoads, discards, bytesCopied, (long) table.residentPages() * PAGE,
          (long) table.spilledPages() * PAGE);
    } finally {
      lock.unlock();
    }
  }

  /** The pool page mapped at each disk page of the range, or -1 where none is (for tests of identity). */
  public int[] mappedPages(long offset, long length) {
    lock.lock();
    try {
      int first = (int) (offset / PAGE);
      int[] pages = new int[(int) ((offset + length - 1) / PAGE) - first + 1];
      for (int i = 0; i < pages.length; i++) {
        pages[i] = table.pageAt(first + i);
      }
      return pages;
    } finally {
      lock.unlock();
    }
  }

  // The paged front-end's path: no copies.

  @Override
  public int maxRequest() {
    return (int) Math.min(1 << 30, (long) table.maxPages() * PAGE);
  }

  /** Splits [offset, offset + length) at page boundaries into pieces of at most max bytes. */
  public static void pieces(long offset, long length, int max, Piece piece) throws IOException {
    long end = offset + length;
    for (long at = offset; at < end; ) {
      long to = PagedDevice.pieceEnd(at, end, max, PAGE);
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
    int[] pages = new int[last - first + 1];
    boolean[] inPlace = new boolean[pages.length];
    ByteBuffer[] buffers = new ByteBuffer[pages.length];
    int taken = 0;
    lock.lock();
    try {
      open();
      boolean fill = table.fillsInPlace(pages.length);
      if (!fill) {
        table.makeRoom(pages.length);
      }
      for (int i = 0; i < pages.length; i++) {
        int from = i == 0 ? (int) (offset % PAGE) : 0;
        int to = first + i == last ? (int) ((offset + length - 1) % PAGE) + 1 : PAGE;
        int page = fill ? table.takeInPlace(first + i) : -1;
        inPlace[i] = page >= 0;
        if (!inPlace[i]) {
          if (fill) {
            table.makeRoom(1);
          }
          page = table.allocate();
        }
        pages[i] = page;
        taken++;
        ByteBuffer view = pool.view(page);
        if (!inPlace[i] && (from > 0 || to < PAGE)) {
          bytesCopied += table.keepRest(first + i, view, from, to);
        }
        buffers[i] = view.slice(from, to - from);
        receivedInto.accept(page);
      }
    } catch (IOException | RuntimeException e) {
      table.giveBack(pages, inPlace, taken);
      throw e;
    } finally {
      lock.unlock();
    }
    return new SwapWrite(first, pages, inPlace, buffers, this::map, this::abandon);
  }

  /** A receive that will not be committed lets go of its pages (see {@link PageTable#giveBack}). */
  private void abandon(int[] pages, boolean[] inPlace) {
    lock.lock();
    try {
      table.giveBack(pages, inPlace, pages.length);
    } finally {
      lock.unlock();
    }
  }

  /** Points pages first.. at the received pages and releases what they had (claims 1 and 2). */
  private void map(int first, int[] pages, boolean[] inPlace) throws IOException {
    lock.lock();
    try {
      if (closed) {
        for (int page : pages) {
          pool.release(page);
        }
        throw DeviceException.closed("swap disk " + spec.name() + " is closed");
      }
      pagesReleased += table.mapReceived(first, pages, inPlace);
      for (boolean filled : inPlace) {
        remaps += filled ? 0 : 1;
      }
      swapOuts += pages.length;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Outgoing send(long offset, int length) throws IOException {
    check(offset, length);
    int first = (int) (offset / PAGE);
    int last = (int) ((offset + length - 1) / PAGE);
    ByteBuffer[] views = new ByteBuffer[last - first + 1];
    int[] held = new int[views.length];
    int heldCount = 0;
    lock.lock();
    try {
      open();
      for (int i = 0; i < views.length; i++) {
        int from = i == 0 ? (int) (offset % PAGE) : 0;
        int to = first + i == last ? (int) ((offset + length - 1) % PAGE) + 1 : PAGE;
        int page = table.resident(first + i);
        if (page < 0) {
          views[i] = PageTable.ZERO.slice(from, to - from);
        } else {
          pool.retain(page);
          held[heldCount++] = page;
          views[i] = pool.view(page).slice(from, to - from).asReadOnlyBuffer();
        }
      }
      swapIns += views.length;
      table.restoreHeadroom();
    } catch (IOException | RuntimeException e) {
      for (int i = 0; i < heldCount; i++) {
        pool.release(held[i]);
      }
      throw e;
    } finally {
      lock.unlock();
    }
    int count = heldCount;
    return new Outgoing() {
      private boolean done;

      @Override
      public ByteBuffer[] buffers() {
        return views;
      }

      @Override
      public void close() {
        if (!done) {
          done = true;
          for (int i = 0; i < count; i++) {
            pool.release(held[i]);
          }
        }
      }
    };
  }

  // Release (claim 2's other half): TRIM and WRITE_ZEROES.

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    discard(offset, length, false);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    discard(offset, length, noHole);
  }

  /** Whole pages of the range are released; the bytes of partial pages at its ends are zeroed. */
  private void discard(long offset, long length, boolean noHole) throws IOException {
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
        if (table.release(p, noHole)) {
          discards++;
        }
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
        b.put(0, PageTable.ZERO, 0, b.remaining());
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
    lock.lock();
    try {
      return table.extents(offset, length);
    } finally {
      lock.unlock();
    }
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
      if (!closed) {
        closed = true;
        table.freeAll();
      }
    } finally {
      lock.unlock();
    }
  }
}
