package dev.remap.engine.queue;

/**
 * Threads for work no request waits on: uploading the journal, cleaning segments, filling the
 * disk tier, collecting the store. They run at {@link Thread#MIN_PRIORITY}, so that on a node's
 * few cores a read that wakes up takes the core from them rather than waiting its turn: the
 * 4 KiB QD1 tail and the reads right after a burst of writes were the background's (see
 * docs/BENCHMARKS.md). Writers never starve them for long: a writer that finds the journal full
 * waits, which gives the uploader the core.
 *
 * <p>A Java priority only reaches the kernel when the JVM is told to pass it on: the launchers
 * ({@code ./remap}, the image's entrypoint) start java with {@code -XX:ThreadPriorityPolicy=1},
 * minimum priority mapped to nice 10 and the JVM's own raised priorities mapped to nice 0 (so
 * its compiler and GC threads stay level with the request threads). Without those flags the
 * priority is a no-op, not an error.
 */
public final class BackgroundThreads {

  private BackgroundThreads() {}

  /** A daemon thread named {@code name} at the lowest priority, not yet started. */
  public static Thread create(Runnable task, String name) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    thread.setPriority(Thread.MIN_PRIORITY);
    return thread;
  }
}
