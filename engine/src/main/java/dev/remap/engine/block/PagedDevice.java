package dev.remap.engine.block;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A device whose physical units are memory pages a front-end may read a payload straight into
 * and send a reply straight from, so that a request's data is never copied inside the engine:
 * the socket fills the pages a write is given ({@link #receive}), which then become the device's
 * pages for that range; a read's reply is gathered from the pages that hold the range
 * ({@link #send}). A swap disk is one (seed 000).
 *
 * <p>A front-end that serves such a device calls these instead of {@link BlockDevice#read} and
 * {@link BlockDevice#write}, and tells the device of any copy it had to make after all
 * ({@link #copied}), so that the device's count of copied bytes is the whole truth.
 */
public interface PagedDevice extends BlockDevice {

  /**
   * Fresh pages for a write of length bytes at offset. Nothing changes until {@link Incoming#commit}.
   *
   * @throws IOException when no page can be had (NoSpaceException: the disk's memory and spill are full)
   */
  Incoming receive(long offset, int length) throws IOException;

  /** The range's pages, held until {@link Outgoing#close} so that nothing reuses them meanwhile. */
  Outgoing send(long offset, int length) throws IOException;

  /**
   * The most bytes one receive or send may cover (a whole number of the device's blocks): a
   * front-end splits larger requests at block boundaries, so that a request never needs more
   * pages at once than the device may hold.
   */
  int maxRequest();

  /**
   * Where the piece of a request that starts at offset ends: at most max bytes on from the start
   * of offset's block, and not past end. A front-end (and the device's own plain reads and
   * writes) splits a request larger than {@link #maxRequest} this way.
   */
  static long pieceEnd(long offset, long end, int max, int blockSize) {
    return Math.min(end, offset / blockSize * blockSize + max);
  }

  /** The front-end copied bytes of a payload after all (a reply the socket did not take at once). */
  void copied(long bytes);

  /** A write's pages, to be filled in order. */
  interface Incoming {
    /** Views covering the write's range, in order; fill each to its limit. */
    ByteBuffer[] buffers();

    /** Maps the filled pages onto the range; the pages the range had before are released. */
    void commit() throws IOException;

    /** The write will not happen (the client went away): the pages go back unused. */
    void abandon();
  }

  /** A read's pages. */
  interface Outgoing extends AutoCloseable {
    /** Views of the range's bytes, in order (read-only; holes are views of a zero page). */
    ByteBuffer[] buffers();

    /** The reply is sent (or copied): the pages may be reused. */
    @Override
    void close();
  }
}
