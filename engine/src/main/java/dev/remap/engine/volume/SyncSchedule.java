package dev.remap.engine.volume;

import java.time.Duration;

/**
 * When the {@link Uploader}'s next barrier ({@link SegmentWriter#barrier}) is due, on a store that
 * writes segments lazily: the journal bytes that only unsynced segments hold, and since when the
 * first of them waits. Due when the oldest has waited {@code delay}, and, while a FLUSH holds
 * those bytes in the journal ({@link RetirementGate}), when they reach a quarter of the journal or
 * the journal is three quarters full (so that it never fills for want of a sync). No I/O; guarded
 * by the uploader's lock.
 */
final class SyncSchedule {

  private final long delayNanos;
  private final long journalCapacity;
  private long waitingBytes;
  private long sinceNanos;
  private boolean waiting;

  SyncSchedule(Duration delay, long journalCapacity) {
    this.delayNanos = delay.toNanos();
    this.journalCapacity = journalCapacity;
  }

  /**
   * A piece of work ended: journalBytes more of the journal were uploaded, and unsynced says
   * whether segments wait for a barrier now (false after one: nothing waits any more).
   */
  void worked(long journalBytes, boolean unsynced, long nowNanos) {
    if (!unsynced) {
      waiting = false;
      waitingBytes = 0;
      return;
    }
    if (!waiting) {
      waiting = true;
      sinceNanos = nowNanos;
    }
    waitingBytes += journalBytes;
  }

  /**
   * Nanoseconds until a barrier is due (0 or less: now), Long.MAX_VALUE while nothing waits.
   *
   * @param flushHolds whether a FLUSH keeps the waiting bytes in the journal until a barrier
   */
  long nanosUntilDue(long journalUsedBytes, boolean flushHolds, long nowNanos) {
    if (!waiting) {
      return Long.MAX_VALUE;
    }
    if (flushHolds && (waitingBytes >= journalCapacity / 4 || journalUsedBytes >= journalCapacity - journalCapacity / 4)) {
      return 0;
    }
    return delayNanos - (nowNanos - sinceNanos);
  }
}
