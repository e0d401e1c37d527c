package dev.remap.engine.nbd;

import java.util.concurrent.TimeUnit;

/**
 * Whether a connection's reader thread serves reads itself now. Reads run there only while they
 * come from memory (RAM tier, page cache): one that waits for the disk (a file not in the page
 * cache; ~90 µs per 4 KiB on this project's test machines) holds up every request behind it,
 * where the transfer workers would run several at once. A read below the RAM tier that took over
 * {@link #SLOW} plus a µs per 4 KiB is slow; when 8 of the last 16 were (one here and there is
 * the thread losing its core), reads go to the workers for {@link #PAUSE}, and the reads on the
 * thread after that tell again. Times are System.nanoTime values, given by the caller.
 *
 * <p>Not thread-safe: one connection's reader thread alone uses it.
 */
final class SlowReads {

  static final long SLOW = TimeUnit.MICROSECONDS.toNanos(50);
  static final long PAUSE = TimeUnit.MILLISECONDS.toNanos(50);
  private static final int WINDOW = 0xFFFF;
  private static final int TOO_MANY = 8;

  /** Reads are not served on the thread before this time. */
  private long from;
  /** The last 16 reads noted, a bit each, set when it was slow. */
  private int recent;

  SlowReads(long now) {
    this.from = now;
  }

  /** Whether the reader thread serves a read itself at now. */
  boolean readHere(long now) {
    return now - from >= 0;
  }

  /** Notes a read below the RAM tier served on the thread; true when reads go to the workers from now. */
  boolean note(long start, long took, long length) {
    boolean slow = took > SLOW + (length >> 12) * 1000;
    recent = (recent << 1 | (slow ? 1 : 0)) & WINDOW;
    if (Integer.bitCount(recent) < TOO_MANY) {
      return false;
    }
    from = start + took + PAUSE;
    recent = 0;
    return true;
  }
}
