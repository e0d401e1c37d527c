package dev.remap.csi.node;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.ForwardingBlockDevice;
import dev.remap.engine.block.PagedDevice;
import dev.remap.engine.swap.PagePool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;

/**
 * A swap disk made again, empty, after the node plugin restarted while it was staged: its pages
 * died with the previous process (swap is not durable), but the guest's kernel still believes
 * the slots it swapped out hold its pages. Reading such a slot back as zeros would hand the guest
 * a page of zeros for its data, silently. So every page is <em>lost</em> until something is
 * written to it again (a new swap-out, a TRIM or WRITE_ZEROES), and reading a lost page fails
 * (EIO to the guest), while new swap-outs and their swap-ins work as on a fresh disk. Page 0 of a
 * labelled disk is the swap signature the engine wrote anew, not lost.
 *
 * <p>Partial-page writes leave a lost page lost: the rest of it is not the guest's data.
 *
 * <p>One per re-created disk, shared by every connection's device over it ({@link #over}): a
 * device reconnects after the restart, and a page written through one connection is found by the
 * next.
 *
 * <p>Thread-safe: {@code lost} is guarded by itself; the disk below guards itself.
 */
final class LostSwapPages {

  private static final int PAGE = PagePool.PAGE;

  private final String name;
  private final BitSet lost;

  /**
   * @param size the disk's size in bytes
   * @param signed whether page 0 holds a fresh swap signature
   */
  LostSwapPages(String name, long size, boolean signed) {
    this.name = name;
    int pages = Math.toIntExact(size / PAGE);
    this.lost = new BitSet(pages);
    lost.set(signed ? 1 : 0, pages);
  }

  /** How many pages are still lost. */
  int count() {
    synchronized (lost) {
      return lost.cardinality();
    }
  }

  /** A connection's device over the disk's attachment (a {@link PagedDevice} too). */
  BlockDevice over(BlockDevice disk) {
    return new Guarded(disk);
  }

  private void check(long offset, long length) throws IOException {
    int first = (int) (offset / PAGE);
    int end = (int) ((offset + length + PAGE - 1) / PAGE);
    int at;
    synchronized (lost) {
      at = lost.nextSetBit(first);
    }
    if (at >= 0 && at < end) {
      throw new IOException("page " + at + " of swap disk " + name + " was swapped out before the node plugin "
          + "restarted and is lost: a swap disk's pages live in the plugin's memory");
    }
  }

  /** The whole pages of the range hold what the guest wrote (or discarded) since the restart. */
  private void found(long offset, long length) {
    int first = (int) ((offset + PAGE - 1) / PAGE);
    int end = (int) ((offset + length) / PAGE);
    if (first < end) {
      synchronized (lost) {
        lost.clear(first, end);
      }
    }
  }

  private final class Guarded extends ForwardingBlockDevice implements PagedDevice {
    private final PagedDevice paged;

    Guarded(BlockDevice disk) {
      super(disk);
      this.paged = (PagedDevice) disk;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      check(offset, dst.remaining());
      next.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
      int length = src.remaining();
      next.write(offset, src, fua);
      found(offset, length);
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
      next.trim(offset, length, fua);
      found(offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
      next.writeZeroes(offset, length, noHole, fua);
      found(offset, length);
    }

    @Override
    public Incoming receive(long offset, int length) throws IOException {
      Incoming in = paged.receive(offset, length);
      return new Incoming() {
        @Override
        public ByteBuffer[] buffers() {
          return in.buffers();
        }

        @Override
        public void commit() throws IOException {
          in.commit();
          found(offset, length);
        }

        @Override
        public void abandon() {
          in.abandon();
        }
      };
    }

    @Override
    public Outgoing send(long offset, int length) throws IOException {
      check(offset, length);
      return paged.send(offset, length);
    }

    @Override
    public int maxRequest() {
      return paged.maxRequest();
    }

    @Override
    public void copied(long bytes) {
      paged.copied(bytes);
    }
  }
}
