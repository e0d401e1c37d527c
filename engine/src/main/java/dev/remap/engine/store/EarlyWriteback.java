package dev.remap.engine.store;

import dev.remap.engine.queue.BackgroundThreads;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Writes files the store put lazily to the disk soon after, on one background thread, so that the
 * {@link ObjectStore#syncLazy} that later makes them durable finds their data written, and the
 * disk takes a segment while the uploader writes the next instead of all of them at once in that
 * sync. Measured: sustained 1 MiB writes went through the uploader's barrier every 64 segments,
 * which synced about 700 MiB at once while writers waited for the journal to free room (their
 * p99 was 0.6 to 0.7 s); docs/BENCHMARKS.md has the figures.
 *
 * <p>An optimisation only, never a promise: an object is durable once a syncLazy naming it has
 * returned, as before. This thread's fsync of a file may come before that or after it, and a file
 * it cannot take now (more than {@link #MAX_WAITING} wait) or that fails here (deleted since, or an
 * I/O error, which the syncLazy that matters then reports) is left to syncLazy. The folder is not
 * synced here: syncLazy does it once per folder.
 *
 * <p>Threads: {@link #offer} from any thread; one writeback thread at the lowest priority
 * ({@link BackgroundThreads}), started when a file waits and ended after {@link #IDLE_SECONDS}
 * without one, so an idle store holds no thread.
 */
final class EarlyWriteback {

  /** Files that may wait; each is a segment of about 8 MiB, so this is more than a barrier's worth. */
  static final int MAX_WAITING = 256;
  private static final int IDLE_SECONDS = 5;

  /** Files written back so far; guarded by this (waiters wait on it). */
  private long written;
  private final ThreadPoolExecutor thread;

  EarlyWriteback(String name) {
    thread = new ThreadPoolExecutor(0, 1, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(MAX_WAITING),
        task -> BackgroundThreads.create(task, "remap-writeback-" + name), new ThreadPoolExecutor.DiscardPolicy());
  }

  /** Asks for file to be written to the disk soon; dropped when too many wait. */
  void offer(Path file) {
    thread.execute(() -> writeBack(file));
  }

  private void writeBack(Path file) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      channel.force(true);
      synchronized (this) {
        written++;
        notifyAll();
      }
    } catch (IOException e) {
      // Deleted since (the cleaner emptied it), or an error the syncLazy that needs the file reports.
    }
  }

  /** Waits until count files have been written back, or timeout passed; whether they were. */
  synchronized boolean awaitWritten(long count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (long left = timeout.toNanos(); written < count && left > 0; left = deadline - System.nanoTime()) {
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return written >= count;
  }

  /** Drops what waits; a file being written back finishes on its own. */
  void close() {
    thread.shutdownNow();
  }
}
