package dev.remap.engine.volume;

import dev.remap.engine.queue.BackgroundThreads;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Periodic garbage collection of a store, in every process that serves volumes (and in the CSI
 * controller). Deleting a volume removes its metadata and checkpoints at once, but its data
 * segments, the segments the cleaner emptied and the copies of interrupted imports are freed only
 * by a collection; without this, a store would only ever grow. {@link GarbageCollector} is safe
 * while volumes are served and several runs may overlap (other nodes, a second controller
 * replica), so this needs no coordination. Besides the interval, a volume's cleaner asks for a
 * run as soon as it has emptied segments ({@link #requestSoon}); requests within a few seconds
 * make one run. A run that fails is logged and the next one tries again.
 */
public final class StoreCollector implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(StoreCollector.class.getName());
  /** A controller restarted more often than its interval still collects. */
  private static final Duration FIRST_RUN_AT_MOST = Duration.ofMinutes(1);

  private final ObjectStore store;
  private final Duration grace;
  private final java.util.function.Predicate<String> deadIfUnreferenced;
  private final ScheduledExecutorService timer;
  private final java.util.concurrent.atomic.AtomicBoolean requested = new java.util.concurrent.atomic.AtomicBoolean();
  /** Requests this close together make one run. */
  private static final Duration REQUEST_DELAY = Duration.ofSeconds(3);

  private StoreCollector(ObjectStore store, Duration grace, java.util.function.Predicate<String> deadIfUnreferenced) {
    this.store = store;
    this.grace = grace;
    this.deadIfUnreferenced = deadIfUnreferenced;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> BackgroundThreads.create(r, "store-gc"));
  }

  /** Starts collecting every interval; empty (and said so) when the interval is zero. */
  public static Optional<StoreCollector> start(ObjectStore store, Duration interval, Duration grace) {
    if (interval.isZero()) {
      LOG.info("store garbage collection: off (interval 0); run ./remap gc to free deleted volumes' data");
      return Optional.empty();
    }
    StoreCollector collector = new StoreCollector(store, grace, key -> false);
    long first = Math.min(interval.toMillis(), FIRST_RUN_AT_MOST.toMillis());
    collector.timer.scheduleWithFixedDelay(collector::runOnce, first, interval.toMillis(), TimeUnit.MILLISECONDS);
    LOG.info(() -> "store garbage collection: every " + interval + ", sparing objects younger than " + grace);
    return Optional.of(collector);
  }

  /** Runs a collection within a few seconds (a cleaner emptied segments). */
  public void requestSoon() {
    if (requested.compareAndSet(false, true)) {
      try {
        timer.schedule(this::runOnce, REQUEST_DELAY.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException closed) {
        requested.set(false);
      }
    }
  }

  /**
   * The collector of a process that serves volumes: runs every interval (none when zero) and
   * whenever a cleaner asks; deadIfUnreferenced: the segments its volumes' owners know are dead
   * once unreferenced, collected without waiting out the grace ({@link OwnGarbage}).
   */
  public static StoreCollector startServing(ObjectStore store, Duration interval, Duration grace,
      java.util.function.Predicate<String> deadIfUnreferenced) {
    StoreCollector collector = new StoreCollector(store, grace, deadIfUnreferenced);
    if (!interval.isZero()) {
      collector.timer.scheduleWithFixedDelay(collector::runOnce, interval.toMillis(), interval.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    return collector;
  }

  void runOnce() {
    requested.set(false);
    try {
      GarbageCollector.Report report = new GarbageCollector(store, grace, deadIfUnreferenced).run();
      if (report.deleted() > 0) {
        LOG.info(() -> "store garbage collection: deleted " + report.deleted() + " objects (" + report.deletedBytes()
            + " bytes), kept " + report.kept());
      }
    } catch (IOException | RuntimeException e) {
      LOG.warning("store garbage collection failed, retried at the next interval: " + e);
    }
  }

  /** Stops the timer and waits for a run in progress, so the store is not closed under it. */
  @Override
  public void close() {
    timer.shutdownNow();
    try {
      if (!timer.awaitTermination(60, TimeUnit.SECONDS)) {
        LOG.warning("store garbage collection still running after 60 s; closing anyway");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
