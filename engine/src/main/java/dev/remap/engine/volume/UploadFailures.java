package dev.remap.engine.volume;

import dev.remap.engine.journal.Journal;
import dev.remap.engine.store.NoSpaceException;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How an {@link Uploader}'s store writes fail: the last error (for drains that time out and the
 * volume's status), whether the store refuses for want of space, how many attempts failed, and how
 * long to wait before the next (100 ms, doubling to 5 s; a store outage is retried forever, the
 * changes staying in the journal). Written by the upload thread alone; read from anywhere.
 */
final class UploadFailures {

  private static final System.Logger LOG = System.getLogger(Uploader.class.getName());
  private static final long FIRST_BACKOFF_MILLIS = 100;
  private static final long MAX_BACKOFF_MILLIS = 5000;

  private final String volume;
  private volatile String lastError;
  /** Why the store refuses uploads for want of space; null while it takes them. */
  private volatile String storeFull;
  private final AtomicLong failures = new AtomicLong();
  private long backoffMillis = FIRST_BACKOFF_MILLIS;

  UploadFailures(String volume) {
    this.volume = volume;
  }

  /** A store write went through: the journal takes writes again if the store was full. */
  void succeeded(Journal journal) {
    backoffMillis = FIRST_BACKOFF_MILLIS;
    lastError = null;
    if (storeFull != null) {
      storeFull = null;
      journal.refuseWhenFull(null);
    }
  }

  /** A store write failed; returns how long to wait before the next attempt. */
  long failed(Exception e, Journal journal) {
    lastError = e.getMessage();
    failures.incrementAndGet();
    if (e instanceof NoSpaceException || NoSpaceException.isNoSpace(e)) {
      // Unlike an outage, waiting frees nothing here: once the journal is full, writes fail
      // with ENOSPC at once (the VM pauses on it) instead of hanging; retries go on meanwhile.
      storeFull = e.getMessage();
      journal.refuseWhenFull("the store has no space left for volume " + volume + ": " + e.getMessage());
    }
    long wait = backoffMillis;
    LOG.log(Level.WARNING, "upload of volume {0} failed, retrying in {1} ms: {2}", volume, wait, e.getMessage());
    backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
    return wait;
  }

  String lastError() {
    return lastError;
  }

  String storeFull() {
    return storeFull;
  }

  long failures() {
    return failures.get();
  }
}
