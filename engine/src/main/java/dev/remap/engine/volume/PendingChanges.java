package dev.remap.engine.volume;

import dev.remap.engine.journal.Journal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The journaled changes an {@link Uploader} has not uploaded yet, in journal order, with their
 * payload bytes and since when the oldest waits (the upload delay's clock, restarted when an
 * upload takes the oldest away). No I/O, no lock of its own: guarded by the uploader's lock.
 */
final class PendingChanges {

  private final ArrayDeque<Journal.Appended> queue = new ArrayDeque<>();
  private long bytes;
  private long oldestNanos;

  /** Adds the changes in order; returns whether the queue was empty before (the clock starts). */
  boolean addAll(List<Journal.Appended> changes, long nowNanos) {
    boolean wasEmpty = queue.isEmpty();
    if (wasEmpty) {
      oldestNanos = nowNanos;
    }
    for (Journal.Appended appended : changes) {
      queue.add(appended);
      bytes += appended.record().payloadSize();
    }
    return wasEmpty;
  }

  boolean isEmpty() {
    return queue.isEmpty();
  }

  /** Payload bytes waiting (what write and trim records carry; zeroes and trims count 0). */
  long bytes() {
    return bytes;
  }

  /** How long the oldest change has waited (meaningless while empty). */
  long ageNanos(long nowNanos) {
    return nowNanos - oldestNanos;
  }

  /** The oldest changes, in order, until they carry target bytes (at least one; none if empty). */
  List<Journal.Appended> nextBatch(long target) {
    List<Journal.Appended> batch = new ArrayList<>();
    long taken = 0;
    for (Iterator<Journal.Appended> it = queue.iterator(); it.hasNext() && (batch.isEmpty() || taken < target); ) {
      Journal.Appended next = it.next();
      batch.add(next);
      taken += next.record().payloadSize();
    }
    return batch;
  }

  /** Removes the count oldest (an uploaded batch); returns their bytes. */
  long removeOldest(int count, long nowNanos) {
    long removed = 0;
    for (int i = 0; i < count; i++) {
      removed += queue.removeFirst().record().payloadSize();
    }
    bytes -= removed;
    if (!queue.isEmpty()) {
      oldestNanos = nowNanos;
    }
    return removed;
  }
}
