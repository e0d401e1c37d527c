package dev.remap.engine.journal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The journal's syncs: serialised, and grouped. Appends go on while files are forced (a flush does
 * not stall other writers); a sync that finds nothing dirty still returns only after the sync in
 * progress has finished.
 *
 * <p>Group commit: a sync that waited for another returns without forcing anything when the one
 * that ran meanwhile covered every record appended before the call. Under many FLUSHes (a client's
 * every few writes, from several connections or workers) each waiter used to force the few records
 * appended while it waited, one fdatasync after the other; now the first waiter's sync covers all
 * who queued behind the one in progress (docs/BENCHMARKS.md, step 19).
 *
 * <p>Locking: its own lock serialises syncs and is taken before the journal's (the journal's
 * {@link Dirty} takes that one briefly), never under it; {@code syncedSeq} is written under it
 * after a sync's forces and read before and after taking it.
 */
final class JournalSyncs {

  /** What a sync takes from the journal under the journal's lock, and gives back if it fails. */
  interface Dirty {
    /** The newest record, the files holding records no sync forced, and whether the folder changed. */
    Taken take();

    /** Gives a failed sync's files and folder back to the next sync. */
    void giveBack(Taken taken);
  }

  /**
   * Every record up to covers is in one of files or in a file an earlier sync forced (syncs are
   * serialised, and one that failed gave its files back before letting go).
   */
  record Taken(long covers, List<JournalFile> files, boolean folder) {}

  private final Path dir;
  private final ReentrantLock lock = new ReentrantLock();
  /** Records up to this number are durable. */
  private volatile long syncedSeq;

  JournalSyncs(Path dir) {
    this.dir = dir;
  }

  /** Whether every record up to seq is durable. */
  boolean syncedThrough(long seq) {
    return syncedSeq >= seq;
  }

  /** Makes every record up to needed (all appended before the call) durable. */
  void sync(long needed, Dirty journal) throws IOException {
    if (syncedSeq >= needed) {
      return;
    }
    lock.lock();
    try {
      if (syncedSeq >= needed) {
        return; // the sync this one waited for covered it
      }
      Taken taken = journal.take();
      try {
        for (JournalFile file : taken.files()) {
          file.force();
        }
        if (taken.folder()) {
          JournalFile.forceFolder(dir);
        }
        syncedSeq = taken.covers();
      } catch (IOException e) {
        journal.giveBack(taken);
        throw e;
      }
    } finally {
      lock.unlock();
    }
  }
}
