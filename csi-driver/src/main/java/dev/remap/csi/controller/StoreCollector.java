package dev.remap.csi.controller;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.GarbageCollector;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The controller's periodic garbage collection of the store. DeleteVolume removes a volume's
 * metadata and checkpoints at once, but its data segments, the data later writes overwrote and
 * the copies of interrupted imports are freed only by a collection; without this, a cluster's
 * store would only ever grow. The engine's collector is safe while volumes are served and
 * several runs may overlap (a second controller replica), so this needs no coordination. A run
 * that fails is logged and the next one tries again.
 */
public final class StoreCollector implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(StoreCollector.class.getName());
  /** A controller restarted more often than its interval still collects. */
  private static final Duration FIRST_RUN_AT_MOST = Duration.ofMinutes(1);

  private final ObjectStore store;
  private final Duration grace;
  private final ScheduledExecutorService timer;

  private StoreCollector(ObjectStore store, Duration grace) {
    this.store = store;
    this.grace = grace;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "store-gc");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts collecting every interval; empty (and said so) when the interval is zero. */
  public static Optional<StoreCollector> start(ObjectStore store, Duration interval, Duration grace) {
    if (interval.isZero()) {
      LOG.info("store garbage collection: off (--gc-interval 0); run ./remap gc to free deleted volumes' data");
      return Optional.empty();
    }
    StoreCollector collector = new StoreCollector(store, grace);
    long first = Math.min(interval.toMillis(), FIRST_RUN_AT_MOST.toMillis());
    collector.timer.scheduleWithFixedDelay(collector::runOnce, first, interval.toMillis(), TimeUnit.MILLISECONDS);
    LOG.info(() -> "store garbage collection: every " + interval + ", sparing objects younger than " + grace);
    return Optional.of(collector);
  }

  void runOnce() {
    try {
      GarbageCollector.Report report = new GarbageCollector(store, grace).run();
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
