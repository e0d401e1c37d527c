package dev.remap.engine.volume;

import dev.remap.engine.core.SegmentPacking;
import dev.remap.engine.core.Source;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.queue.BackgroundThreads;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one thread that writes a volume's data to the store. It takes journaled changes in order,
 * packs what no later change of the batch overwrites into a segment of about {@code
 * segmentTarget} bytes (log-structured: thousands of small random writes make one store PUT),
 * writes it, then moves the mapping from the journal to the segment and retires the journal files
 * it covered once that segment is durable.
 *
 * <p>Durability: on a store that writes segments lazily (the file store), a segment is not durable
 * when it is committed. Records a client's FLUSH covered stay in the journal until a barrier
 * ({@link SegmentWriter#barrier}) syncs the segments holding them;
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
 * <p>Locking: the {@link UploadMonitor}'s lock guards the pending queue, the flags, the
 * checkpoint requests and the sync schedule, and the other threads' waits (drain, checkpoint, a
 * FLUSH's barrier) are there. This class keeps the thread: choosing its next work under that lock
 * ({@code nextWork} stays here because it weighs the cleaner, the journal and the sync schedule
 * too, which are the thread's), and doing it holding no lock, since the work calls the host
 * (package-info.java has the package's lock order).
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
  private final UploadFailures failures;
  private final UploadMonitor monitor;
  private final AtomicLong dataBytes = new AtomicLong();
  private SegmentCleaner cleaner;
  private int uploadsSinceCleaning;
  private static final int UPLOADS_PER_CLEANING_TURN = 2;
  private Journal journal;
  private Thread thread;
  /** When the next barrier is due (guarded by the monitor's lock: nextWork and finish use it). */
  private final SyncSchedule syncs;
  /** The journal is retired up to here (upload thread, and the closing thread after it stopped). */
  private long retiredSeq;
  private final RetirementGate gate = new RetirementGate();

  Uploader(UploadHost host, ObjectStore store, VolumeOptions options, long lastSegment, long uploadedSeq) {
    this.host = host;
    this.options = options;
    this.failures = new UploadFailures(host.name());
    this.writer = new SegmentWriter(host, store, options.checkpointEvery(), lastSegment, uploadedSeq);
    this.syncs = new SyncSchedule(options.syncDelay(), options.journalCapacity());
    this.monitor = new UploadMonitor(host, writer, failures, options.segmentTarget());
  }

  /** Gives the thread a cleaner to run between uploads (before {@link #start}). */
  void cleanWith(SegmentCleaner segmentCleaner) {
    this.cleaner = segmentCleaner;
  }

  void start(Journal journal) {
    this.journal = journal;
    thread = BackgroundThreads.create(this::run, "remap-upload-" + host.name());
    thread.start();
  }

  void enqueue(Journal.Appended appended) {
    enqueueAll(List.of(appended));
  }

  /** Queues journaled changes for upload, in journal order, under one acquisition of the lock. */
  void enqueueAll(List<Journal.Appended> batch) {
    monitor.enqueueAll(batch);
  }

  /**
   * Where segments and checkpoints are written: the cleaner writes its segments there (on this
   * uploader's thread), and its counters are the volume's.
   */
  SegmentWriter writer() {
    return writer;
  }

  long backlogBytes() {
    return monitor.backlogBytes();
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
   * A FLUSH covering records up to seq, if it need not wait for a barrier: true when none is
   * needed (the FLUSH is recorded, as {@link #flushing} records it); false when one is, and then
   * the caller goes the way of {@link #flushing}, which asks again.
   */
  boolean flushingWithoutBarrier(long seq) {
    return barrierFor(seq) == 0;
  }

  /**
   * A client's FLUSH covering journal records up to seq starts: if records it covers left the
   * journal before their segments were durable, waits for a barrier (see {@link RetirementGate}).
   * The caller syncs the journal after this returns.
   */
  void flushing(long seq) throws IOException {
    long needed = barrierFor(seq);
    if (needed == 0) {
      return;
    }
    monitor.awaitBarrier(needed);
  }

  /** Records a FLUSH covering records up to seq; the record a barrier must reach first, or 0. */
  private long barrierFor(long seq) {
    return gate.flushing(seq, writer.durableJournalSeq());
  }

  /** Uploads everything pending now; fails if that takes longer than timeout. */
  void drain(Duration timeout) throws IOException {
    monitor.drain(timeout);
  }

  /**
   * Continues after another owner's segments and journal numbers (this volume took ownership
   * back). Only when nothing is pending: a handover drained everything first.
   */
  void continueFrom(long lastSegment, long storedJournalSeq) {
    monitor.lock.lock();
    try {
      if (!monitor.idle()) {
        throw new IllegalStateException("volume " + host.name() + " has changes not uploaded yet");
      }
      writer.continueFrom(lastSegment, storedJournalSeq);
    } finally {
      monitor.lock.unlock();
    }
  }

  /**
   * Writes a checkpoint now if segments were written since the last one (after a drain). The
   * upload thread writes it, as it writes everything else of the volume's: this thread only asks
   * and waits ({@link UploadMonitor#checkpointNow}).
   */
  void checkpointNow(Duration timeout) throws IOException {
    monitor.checkpointNow(timeout);
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
    monitor.stop();
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

  private void run() {
    while (true) {
      Work work = nextWork();
      if (work == null) {
        return;
      }
      if (host.fencedReason() != null) {
        // Another owner took the volume: nothing more goes to the store from here.
        finish(work, false);
        monitor.awaitStop();
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
        monitor.checkpointed(failed);
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
    monitor.lock.lock();
    try {
      PendingChanges pending = monitor.pending();
      while (true) {
        if (monitor.stopping()) {
          return null;
        }
        if (monitor.takeCheckpoint()) {
          // Asked for after a drain: before cleaning, which would only delay the handover.
          return new Work(List.of(), Kind.CHECKPOINT);
        }
        if (monitor.barrierWanted() > writer.durableJournalSeq()) {
          monitor.markBusy(); // a FLUSH waits for it: before anything else
          return new Work(List.of(), Kind.BARRIER);
        }
        long wait = Long.MAX_VALUE;
        if (writer.unsyncedSegments() > 0) {
          long syncIn = syncs.nanosUntilDue(journal.usedBytes(), gate.flushWaits(writer.durableJournalSeq()),
              System.nanoTime());
          if (syncIn <= 0 || (monitor.draining() && pending.isEmpty())) {
            monitor.markBusy();
            return new Work(List.of(), Kind.BARRIER);
          }
          wait = syncIn;
        }
        boolean uploadDue = false;
        if (!pending.isEmpty()) {
          wait = Math.min(wait, options.uploadDelay().toNanos() - pending.ageNanos(System.nanoTime()));
          uploadDue = monitor.urgent() || pending.bytes() >= options.segmentTarget() || wait <= 0;
        }
        // Uploads of client data go first, but under steady writes one is always due: then the
        // cleaner gets a turn after every UPLOADS_PER_CLEANING_TURN uploads, or the store would
        // grow for as long as the writes last (its own pace bounds what a turn costs).
        if (cleaner != null && !monitor.urgent() && (!uploadDue || uploadsSinceCleaning >= UPLOADS_PER_CLEANING_TURN)) {
          long clean = cleaner.nanosUntilDue();
          if (clean <= 0) {
            monitor.markBusy();
            uploadsSinceCleaning = 0;
            return new Work(List.of(), Kind.CLEAN);
          }
          wait = Math.min(wait, clean);
        }
        if (uploadDue) {
          break;
        }
        if (wait == Long.MAX_VALUE) {
          monitor.changed.await();
        } else {
          monitor.changed.awaitNanos(wait);
        }
      }
      List<Journal.Appended> batch = pending.nextBatch(options.segmentTarget());
      monitor.markBusy();
      uploadsSinceCleaning++;
      return new Work(batch, Kind.UPLOAD);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } finally {
      monitor.lock.unlock();
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
    monitor.lock.lock();
    try {
      long uploadedBytes = done ? monitor.pending().removeOldest(work.batch().size(), System.nanoTime()) : 0;
      // Even after a failure: a segment written before it (its commit failed) waits for a sync too.
      syncs.worked(uploadedBytes, writer.unsyncedSegments() > 0, System.nanoTime());
      monitor.finished();
    } finally {
      monitor.lock.unlock();
    }
  }

  private void upload(List<Journal.Appended> batch) throws IOException {
    dataBytes.addAndGet(writer.writeBatch(batch, journal));
  }

  private static void sleep(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
