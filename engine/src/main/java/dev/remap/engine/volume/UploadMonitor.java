package dev.remap.engine.volume;

import dev.remap.engine.journal.Journal;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What the threads of a volume wait on its {@link Uploader} for, and the waiting itself: the
 * changes not uploaded yet ({@link PendingChanges}), whether the upload thread is busy, stopping,
 * urged on by a drain, the checkpoints asked for and the barrier a FLUSH wants.
 *
 * <p>Who waits on what: a drain (handover, snapshot, close) until nothing is pending, the thread
 * is idle and every segment is synced; a checkpoint asker until the upload thread wrote the
 * checkpoint it asked for; a FLUSH until a barrier made segments durable as far as it needs; a
 * fenced upload thread until it is stopped; the upload thread itself, in
 * {@code Uploader.nextWork}, until there is work. Each wait gives up when the uploader stops or
 * another owner takes the volume, since nothing of this owner's goes to the store any more.
 *
 * <p>{@code nextWork} and {@code finish} stay in the {@link Uploader}: what they decide weighs the
 * cleaner, the journal, the retirement gate and the sync schedule, all the upload thread's, so
 * they take {@link #lock} and read the state here through the few methods marked "caller holds
 * lock" rather than this class learning about cleaning.
 *
 * <p>Locking: {@link #lock} guards everything here (and the uploader's sync schedule); every
 * change another thread may wait for is followed by {@code changed.signalAll()}. A thread holding
 * it only waits on {@link #changed} or returns: it never asks the host to commit or retire nor
 * takes the map lock (package-info.java has the package's lock order), which is why a checkpoint
 * is asked of the upload thread instead of written here.
 */
final class UploadMonitor {

  /** One per uploader: every wait and every change of the state below is under it. */
  final ReentrantLock lock = new ReentrantLock();
  /** Signalled after every change someone may wait for. */
  final Condition changed = lock.newCondition();

  private final UploadHost host;
  private final SegmentWriter writer;
  private final UploadFailures failures;
  private final long segmentTarget;
  private final PendingChanges pending = new PendingChanges();
  /** A drain wants everything uploaded now, without waiting for the upload delay. */
  private boolean urgent;
  /** The upload thread works on what nextWork gave it. */
  private boolean busy;
  private boolean stopping;
  /** Drains waiting now: they wait for a barrier too once nothing is pending. */
  private int draining;
  /** Checkpoints asked for by {@link #checkpointNow}, the last one taken, and the last one written. */
  private long checkpointsAsked;
  private long checkpointTaken;
  private long checkpointsDone;
  private IOException checkpointFailure;
  /** A FLUSH waits for a barrier to make segments durable up to here. */
  private long barrierWanted;

  /**
   * @param writer whose counters the waits read (how far segments are durable, how many unsynced)
   * @param failures whose last error a timed-out wait reports
   * @param segmentTarget pending bytes that make an upload due at once
   */
  UploadMonitor(UploadHost host, SegmentWriter writer, UploadFailures failures, long segmentTarget) {
    this.host = host;
    this.writer = writer;
    this.failures = failures;
    this.segmentTarget = segmentTarget;
  }

  /** Queues journaled changes for upload, in journal order, under one acquisition of the lock. */
  void enqueueAll(List<Journal.Appended> batch) {
    lock.lock();
    try {
      boolean first = pending.addAll(batch, System.nanoTime());
      // The first change starts the upload delay's clock: a thread waiting with nothing pending
      // must learn of it, or a few small writes or trims would wait for 8 MiB more or a drain.
      if (first || pending.bytes() >= segmentTarget) {
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  long backlogBytes() {
    lock.lock();
    try {
      return pending.bytes();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Has the upload thread run a barrier and waits until segments are durable up to needed (a
   * FLUSH's records left the journal before that: see {@link RetirementGate}).
   */
  void awaitBarrier(long needed) throws IOException {
    lock.lock();
    try {
      barrierWanted = Math.max(barrierWanted, needed);
      changed.signalAll();
      while (writer.durableJournalSeq() < needed) {
        if (stopping || host.fencedReason() != null) {
          throw new IOException("volume " + host.name() + " stopped before its segments were synced"
              + (host.fencedReason() == null ? "" : ": " + host.fencedReason()));
        }
        changed.await();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while syncing volume " + host.name(), e);
    } finally {
      lock.unlock();
    }
  }

  /** Uploads everything pending now; fails if that takes longer than timeout. */
  void drain(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    draining++;
    try {
      urgent = true;
      changed.signalAll();
      // Segments not synced yet count as not uploaded: a drain precedes a snapshot, a handover or
      // a close, after which the store alone must hold every change, durably.
      while (!pending.isEmpty() || busy || writer.unsyncedSegments() > 0) {
        if (host.fencedReason() != null) {
          throw new IOException(host.fencedReason());
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IOException("volume " + host.name() + ": " + pending.bytes()
              + " bytes are not uploaded yet" + (pending.isEmpty() ? " and " + writer.unsyncedSegments()
              + " segments not synced" : "") + errorSuffix());
        }
        changed.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while uploading volume " + host.name(), e);
    } finally {
      draining--;
      lock.unlock();
    }
  }

  /**
   * Asks the upload thread for a checkpoint and waits until it is written. The upload thread
   * writes it, as it writes everything else of the volume's: this thread only asks and waits, so
   * it never takes the map lock while holding {@code lock} (package-info's order).
   */
  void checkpointNow(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      long ticket = ++checkpointsAsked;
      changed.signalAll();
      while (checkpointsDone < ticket) {
        if (stopping || host.fencedReason() != null) {
          return; // nothing of this owner's goes to the store any more
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IOException("volume " + host.name() + ": no checkpoint within " + timeout
              + errorSuffix());
        }
        changed.awaitNanos(left);
      }
      if (checkpointFailure != null) {
        throw new IOException("volume " + host.name() + ": checkpoint failed: " + checkpointFailure.getMessage(),
            checkpointFailure);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while checkpointing volume " + host.name(), e);
    } finally {
      lock.unlock();
    }
  }

  /** The uploader stops: every wait gives up and the upload thread ends. */
  void stop() {
    lock.lock();
    try {
      stopping = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** A fenced upload thread waits here until it is stopped, so that it uploads nothing more. */
  void awaitStop() {
    lock.lock();
    try {
      while (!stopping) {
        changed.await();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      lock.unlock();
    }
  }

  /** The checkpoint taken by {@link #takeCheckpoint} is written (or failed): its askers go on. */
  void checkpointed(IOException failed) {
    lock.lock();
    try {
      checkpointsDone = checkpointTaken;
      checkpointFailure = failed;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  // The upload thread's side, each called holding lock (Uploader.nextWork, finish, continueFrom).

  /** Caller holds lock. */
  PendingChanges pending() {
    return pending;
  }

  /** Caller holds lock. */
  boolean stopping() {
    return stopping;
  }

  /** Caller holds lock. */
  boolean urgent() {
    return urgent;
  }

  /** Caller holds lock. */
  boolean draining() {
    return draining > 0;
  }

  /** Caller holds lock. */
  long barrierWanted() {
    return barrierWanted;
  }

  /** Caller holds lock: nothing pending and the upload thread between works. */
  boolean idle() {
    return pending.isEmpty() && !busy;
  }

  /** Caller holds lock: the upload thread starts what nextWork gives it (a drain waits for it). */
  void markBusy() {
    busy = true;
  }

  /**
   * Caller holds lock: takes the checkpoints asked for, once nothing is pending (they follow a
   * drain), and marks the thread busy; false when none is due.
   */
  boolean takeCheckpoint() {
    if (checkpointTaken < checkpointsAsked && pending.isEmpty()) {
      checkpointTaken = checkpointsAsked;
      busy = true;
      return true;
    }
    return false;
  }

  /** Caller holds lock: the upload thread is done with its work; whoever waits looks again. */
  void finished() {
    busy = false;
    if (pending.isEmpty()) {
      urgent = false;
    }
    changed.signalAll();
  }

  private String errorSuffix() {
    String error = failures.lastError();
    return error == null ? "" : " (" + error + ")";
  }
}
