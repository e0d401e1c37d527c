package dev.remap.engine.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Buffers for the data of read replies: a large read gets a direct buffer kept from an earlier
 * read, which {@link Wire} gives back once the socket has taken it.
 *
 * <p>Why: a new heap array per 1 MiB read is zeroed first, is a humongous object for G1 (one
 * collection every few hundred reads), and is copied twice more than the bytes need: by the
 * JDK into its temporary direct buffer when a file is read into it, and into the wire's staging
 * buffer on the way out. A direct buffer is filled by the kernel (a file read) or by one copy (a
 * RAM hit), and written to the socket in place. Small reads keep a heap buffer: for them the
 * allocation is a pointer bump and the staging copy is what lets many replies share one write.
 *
 * <p>Bounds: at most {@code keepMax} bytes of free buffers are kept; a buffer given back past
 * that is dropped (its memory freed by its cleaner). Buffers in use are bounded by each
 * connection's limits on bytes in flight and queued.
 *
 * <p>Threads: any. A buffer is taken by the thread serving the read and given back by whichever
 * thread finishes sending it, or drops it (a failed read, a broken connection).
 */
final class ReadBuffers {

  /** Reads from this size get a kept direct buffer; see the class comment for smaller ones. */
  static final int POOLED_MIN = 64 << 10;
  private static final int MIN_SHIFT = Integer.numberOfTrailingZeros(POOLED_MIN);
  private static final int CLASSES = Integer.numberOfTrailingZeros(NbdProtocol.MAX_PAYLOAD) - MIN_SHIFT + 1;
  /** Free buffers kept by default: 32 1 MiB reads, a few connections' worth of QD8. */
  static final long DEFAULT_KEEP = 32L << 20;

  private final long keepMax;
  private final AtomicLong kept = new AtomicLong();
  private final ConcurrentLinkedQueue<ByteBuffer>[] free;

  @SuppressWarnings("unchecked")
  ReadBuffers(long keepMax) {
    this.keepMax = keepMax;
    this.free = new ConcurrentLinkedQueue[CLASSES];
    for (int i = 0; i < CLASSES; i++) {
      free[i] = new ConcurrentLinkedQueue<>();
    }
  }

  /**
   * A buffer for length bytes (position 0, limit length). Its contents are not zeroed: a read
   * fills all of it (holes included) or fails.
   */
  ByteBuffer take(int length) {
    if (!pooled(length)) {
      return ByteBuffer.allocate(length);
    }
    int c = classOf(length);
    ByteBuffer b = free[c].poll();
    if (b == null) {
      b = ByteBuffer.allocateDirect(POOLED_MIN << c);
    } else {
      kept.addAndGet(-b.capacity());
    }
    return b.clear().limit(length);
  }

  /** Whether a buffer from {@link #take} is to be given back (sent or not). */
  static boolean lent(ByteBuffer b) {
    return b.isDirect();
  }

  /**
   * Takes a buffer from {@link #take} back, once nothing reads it any more. Past the bound, kept
   * buffers of other sizes are dropped first, largest first: the sizes kept follow the reads of
   * the moment (a pool full of another size would leave every read a new buffer, whose pages all
   * fault on first use).
   */
  void give(ByteBuffer b) {
    if (!lent(b) || b.capacity() > keepMax) {
      return;
    }
    int c = classOf(b.capacity());
    for (int other = CLASSES - 1; other >= 0 && overWith(b); other--) {
      ByteBuffer dropped;
      while (other != c && overWith(b) && (dropped = free[other].poll()) != null) {
        kept.addAndGet(-dropped.capacity());
      }
    }
    if (kept.addAndGet(b.capacity()) > keepMax) {
      kept.addAndGet(-b.capacity());
      return;
    }
    free[c].offer(b);
  }

  /** Whether keeping b now would pass the bound. */
  private boolean overWith(ByteBuffer b) {
    return kept.get() + b.capacity() > keepMax;
  }

  /** Bytes of free buffers kept now. */
  long keptBytes() {
    return kept.get();
  }

  private static boolean pooled(int length) {
    return length >= POOLED_MIN && length <= NbdProtocol.MAX_PAYLOAD;
  }

  /** The smallest class holding length: capacity POOLED_MIN << class. */
  private static int classOf(int length) {
    return Math.max(0, 32 - Integer.numberOfLeadingZeros(length - 1) - MIN_SHIFT);
  }
}
