package dev.remap.engine.volume;

import dev.remap.engine.core.SegmentPacking;
import dev.remap.engine.core.Source;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one thread that writes a volume's data to the store. It takes journaled changes in order,
 * packs what no later change of the batch overwrites into a segment of about {@code
 * segmentTarget} bytes (log-structured: thousands of small random writes make one store PUT),
 * writes it, then moves the mapping from the journal to the segment and retires the journal files
 * it covered once that segment is durable.
 *
 * <p>Durability: on a store that writes segments lazily (the file store), a segment is not durable
 * when it is committed. Records a client's FLUSH covered stay in the journal until a barrier
 * ({@link SegmentWriter#barrier}, which syncs the journal first) syncs the segments holding them;
 * records no FLUSH covered leave it once segments hold them ({@link RetirementGate}), and a later
 * FLUSH first has a barrier run ({@link #flushing}). A barrier runs when the journal bytes a FLUSH
 * holds in it reach a quarter of the journal (the journal never fills for want of one), when the
 * oldest unsynced segment is {@code syncDelay} old, when a FLUSH asks, before every checkpoint,
 * and in every drain (handover, snapshot, close).
 *
 * <p>A store failure is retried with backoff, forever ({@link UploadFailures}): the changes stay in
 * the journal, writers go on until the journal is full and then wait. Nothing acknowledged is
 * dropped. The changes not uploaded yet are {@link PendingChanges}.
 *
 * <p>It sees its volume only through {@link UploadHost}: it packs a batch from the journaled
 * changes alone ({@link SegmentPacking}: the volume as of the batch's last change, so that a
 * segment never depends on a later change a power cut may take from the journal) and hands the
 * written segment to the host to commit; {@link SegmentWriter} writes segments and checkpoints.
 *
 * <p>Locking: {@code lock} guards the pending queue, the flags and the checkpoint requests; a
 * thread holding it never calls the host (package-info.java has the package's lock order).
 */
final class Uploader {

  private static final System.Logger LOG = System.getLogger(Uploader.class.getName());

  /** A range to move (from the journal, or from a segment being cleaned) to a segment once it is in the store. */
  record Move(long offset, long length, Source from, Source.Stored to) {}

  /** What the thread does next: upload a batch of journaled changes, a cleaning step, or a checkpoint. */
  private record Work(List<Journal.Appended> batch, Kind kind) {}

  private enum Kind { UPLOAD, CLEAN, CHECKPOINT, BARRIER }

  private final UploadHost host;
  private final SegmentWriter writer;
  private final VolumeOptions options;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final PendingChanges pending = new PendingChanges();
  private boolean urgent;
  private boolean busy;
  private boolean stopping;
  private final UploadFailures failures;
  private final AtomicLong dataBytes = new AtomicLong();
  private SegmentCleaner cleaner;
  private int uploadsSinceCleaning;
  /** Checkpoints asked for by {@link #checkpointNow} (guarded by lock), and the last one written. */
  private long checkpointsAsked;
  private long checkpointTaken;
  private long checkpointsDone;
  private IOException checkpointFailure;
  private static final int UPLOADS_PER_CLEANING_TURN = 2;
  private Journal journal;
  private Thread thread;
  /** Drains waiting now (guarded by lock): they wait for a barrier too once nothing is pending. */
  private int draining;
  /** When the next barrier is due (guarded by lock). */
  private final SyncSchedule syncs;
  /** The journal is retired up to here (upload thread, and the closing thread after it stopped). */
  private long retiredSeq;
  private final RetirementGate gate = new RetirementGate();
  /** A FLUSH waits for a barrier to make segments durable up to here (guarded by lock). */
  private long barrierWanted;

  Uploader(UploadHost host, ObjectStore store, VolumeOptions options, long lastSegment, long uploadedSeq) {
    this.host = host;
    this.options = options;
    this.failures = new UploadFailures(host.name());
    this.writer = new SegmentWriter(host, store, options.checkpointEvery(), lastSegment, uploadedSeq);
    this.syncs = new SyncSchedule(options.syncDelay(), options.journalCapacity());
  }

  /** Gives the thread a cleaner to run between uploads (before {@link #start}). */
  void cleanWith(SegmentCleaner segmentCleaner) {
    this.cleaner = segmentCleaner;
  }

  void start(Journal journal) {
    this.journal = journal;
    writer.syncFirst(journal);
    thread = new Thread(this::run, "remap-upload-" + host.name());
    thread.setDaemon(true);
    thread.start();
  }

  void enqueue(Journal.Appended appended) {
    enqueueAll(List.of(appended));
  }

  /** Queues journaled changes for upload, in journal order, under one acquisition of the lock. */
  void enqueueAll(List<Journal.Appended> batch) {
    lock.lock();
    try {
      boolean first = pending.addAll(batch, System.nanoTime());
      // The first change starts the upload delay's clock: a thread waiting with nothing pending
      // must learn of it, or a few small writes or trims would wait for 8 MiB more or a drain.
      if (first || pending.bytes() >= options.segmentTarget()) {
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Where segments and checkpoints are written: the cleaner writes its segments there (on this
   * uploader's thread), and its counters are the volume's.
   */
  SegmentWriter writer() {
    return writer;
  }

  long backlogBytes() {
    lock.lock();
    try {
      return pending.bytes();
    } finally {
      lock.unlock();
    }
  }

  /** Bytes of the clients' writes that reached segments (what write amplification divides by). */
  long dataBytesUploaded() {
    return dataBytes.get();
  }

  String lastError() {
    return failures.lastError();
  }

  /** Why the store refuses this volume's uploads for want of space, or null. */
  String storeFull() {
    return failures.storeFull();
  }

  /** Upload attempts that failed (each retry counts). */
  long failures() {
    return failures.failures();
  }

  /**
   * A client's FLUSH covering journal records up to seq starts: if records it covers left the
   * journal before their segments were durable, waits for a barrier (see {@link RetirementGate}).
   * The caller syncs the journal after this returns.
   */
  void flushing(long seq) throws IOException {
    long needed = gate.flushing(seq, writer.durableJournalSeq());
    if (needed == 0) {
      return;
    }
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
   * Continues after another owner's segments and journal numbers (this volume took ownership
   * back). Only when nothing is pending: a handover drained everything first.
   */
  void continueFrom(long lastSegment, long storedJournalSeq) {
    lock.lock();
    try {
      if (!pending.isEmpty() || busy) {
        throw new IllegalStateException("volume " + host.name() + " has changes not uploaded yet");
      }
      writer.continueFrom(lastSegment, storedJournalSeq);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Writes a checkpoint now if segments were written since the last one (after a drain). The
   * upload thread writes it, as it writes everything else of the volume's: this thread only asks
   * and waits, so it never takes the map lock while holding {@code lock} (package-info's order).
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

  /**
   * Uploads what it can within timeout, writes a checkpoint if everything went, and stops.
   *
   * @return whether everything journaled reached the store
   */
  boolean stop(Duration timeout) {
    boolean drained = true;
    try {
      drain(timeout);
    } catch (IOException e) {
      drained = false;
      LOG.log(Level.WARNING, "closing with changes left in the journal: {0}", e.getMessage());
    }
    lock.lock();
    try {
      stopping = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    try {
      thread.join(timeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (drained) {
      try {
        writer.checkpointIfBehind();
      } catch (IOException e) {
        LOG.log(Level.WARNING, "no checkpoint at close of {0}: {1}", host.name(), e.getMessage());
      }
    }
    return drained;
  }

  private String errorSuffix() {
    String error = failures.lastError();
    return error == null ? "" : " (" + error + ")";
  }

  private void run() {
    while (true) {
      Work work = nextWork();
      if (work == null) {
        return;
      }
      if (host.fencedReason() != null) {
        // Another owner took the volume: nothing more goes to the store from here.
        finish(work, false);
        awaitStop();
        return;
      }
      if (work.kind() == Kind.CLEAN) {
        try {
          cleaner.runDue();
          retireDurable();
        } catch (IOException | RuntimeException e) {
          cleaner.failed(e);
        }
        finish(work, true);
        continue;
      }
      if (work.kind() == Kind.CHECKPOINT) {
        IOException failed = null;
        try {
          writer.checkpointIfBehind();
          retireDurable();
        } catch (IOException e) {
          failed = e;
        }
        checkpointed(failed);
        finish(work, true);
        continue;
      }
      try {
        if (work.kind() == Kind.BARRIER) {
          writer.barrier();
        } else {
          upload(work.batch());
        }
        retireDurable();
        failures.succeeded(journal);
        finish(work, true);
      } catch (IOException | RuntimeException e) {
        long backoff = failures.failed(e, journal);
        finish(work, false);
        sleep(backoff);
      }
    }
  }

  /**
   * Waits for work: enough bytes, or old enough, or someone waiting; between uploads, a cleaning
   * step when one is due and nobody waits for a drain. Null when stopping.
   */
  private Work nextWork() {
    lock.lock();
    try {
      while (true) {
        if (stopping) {
          return null;
        }
        if (checkpointTaken < checkpointsAsked && pending.isEmpty()) {
          // Asked for after a drain: before cleaning, which would only delay the handover.
          checkpointTaken = checkpointsAsked;
          busy = true;
          return new Work(List.of(), Kind.CHECKPOINT);
        }
        if (barrierWanted > writer.durableJournalSeq()) {
          busy = true; // a FLUSH waits for it: before anything else
          return new Work(List.of(), Kind.BARRIER);
        }
        long wait = Long.MAX_VALUE;
        if (writer.unsyncedSegments() > 0) {
          long syncIn = syncs.nanosUntilDue(journal.usedBytes(), gate.flushWaits(writer.durableJournalSeq()),
              System.nanoTime());
          if (syncIn <= 0 || (draining > 0 && pending.isEmpty())) {
            busy = true;
            return new Work(List.of(), Kind.BARRIER);
          }
          wait = syncIn;
        }
        boolean uploadDue = false;
        if (!pending.isEmpty()) {
          wait = Math.min(wait, options.uploadDelay().toNanos() - pending.ageNanos(System.nanoTime()));
          uploadDue = urgent || pending.bytes() >= options.segmentTarget() || wait <= 0;
        }
        // Uploads of client data go first, but under steady writes one is always due: then the
        // cleaner gets a turn after every UPLOADS_PER_CLEANING_TURN uploads, or the store would
        // grow for as long as the writes last (its own pace bounds what a turn costs).
        if (cleaner != null && !urgent && (!uploadDue || uploadsSinceCleaning >= UPLOADS_PER_CLEANING_TURN)) {
          long clean = cleaner.nanosUntilDue();
          if (clean <= 0) {
            busy = true;
            uploadsSinceCleaning = 0;
            return new Work(List.of(), Kind.CLEAN);
          }
          wait = Math.min(wait, clean);
        }
        if (uploadDue) {
          break;
        }
        if (wait == Long.MAX_VALUE) {
          changed.await();
        } else {
          changed.awaitNanos(wait);
        }
      }
      List<Journal.Appended> batch = pending.nextBatch(options.segmentTarget());
      busy = true;
      uploadsSinceCleaning++;
      return new Work(batch, Kind.UPLOAD);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } finally {
      lock.unlock();
    }
  }

  /** The checkpoint taken in nextWork is written (or failed): its askers go on. */
  private void checkpointed(IOException failed) {
    lock.lock();
    try {
      checkpointsDone = checkpointTaken;
      checkpointFailure = failed;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Retires the journal as far as {@link RetirementGate} allows. Upload thread. */
  private void retireDurable() throws IOException {
    long upTo = gate.retirable(writer.durableJournalSeq(), writer.uploadedJournalSeq());
    if (upTo > retiredSeq) {
      host.retire(journal, upTo);
      retiredSeq = upTo;
    }
  }

  private void finish(Work work, boolean done) {
    lock.lock();
    try {
      long uploadedBytes = done ? pending.removeOldest(work.batch().size(), System.nanoTime()) : 0;
      // Even after a failure: a segment written before it (its commit failed) waits for a sync too.
      syncs.worked(uploadedBytes, writer.unsyncedSegments() > 0, System.nanoTime());
      busy = false;
      if (pending.isEmpty()) {
        urgent = false;
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void upload(List<Journal.Appended> batch) throws IOException {
    dataBytes.addAndGet(writer.writeBatch(batch, journal));
  }

  private void awaitStop() {
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

  private static void sleep(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
