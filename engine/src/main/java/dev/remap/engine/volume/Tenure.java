package dev.remap.engine.volume;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A served volume's side of {@link Ownership}: whether this process owns the volume now, under
 * which lease epoch, and why it stopped if another owner took the volume from under it.
 *
 * <p>On standby, the first request of any kind takes the volume over and has it load what the
 * previous owner left in the store — reads too, because a standby's mapping is as old as its last
 * handover. {@code ownerLock} serialises those acquisitions. A handover holds the volume's
 * {@code writeOrder}, and writers check ownership under it ({@link #lockAsOwner}), so nothing is
 * journaled by a volume that has handed over.
 *
 * <p>The layers above hook in here: actions to run on each acquisition, and the counters whose
 * sum the lease publishes.
 */
final class Tenure {

  /** Loads the volume's state from the store again (after another owner changed it). */
  @FunctionalInterface
  interface Reloader {
    VolumeManager.Loaded load(VolumeMeta meta) throws IOException;
  }

  /**
   * What a tenure needs of its volume, and nothing more: the holder its lease is registered
   * with, the write order a handover holds, and the steps of a handover and of a reload.
   * {@link VolumeTenureHost} is the volume's.
   */
  interface Host {
    VolumeMeta meta();

    /** The holder ownership calls back (handover requests, a lost lease, the published figures). */
    Ownership.Holder holder();

    /** Serialises changes and handovers (the volume's writeOrder, second in the lock order). */
    ReentrantLock writeOrder();

    boolean closed();

    /** Fails if the volume was closed. */
    void checkOpen() throws IOException;

    /** Puts what another owner left in the store in place of the volume's state. */
    void reload(VolumeManager.Loaded loaded) throws IOException;

    /** Uploads everything journaled, then writes a checkpoint, each within timeout. */
    void drainAndCheckpoint(Duration timeout) throws IOException;
  }

  private static final Duration HANDOVER_DRAIN = Duration.ofMinutes(5);

  private final Host volume;
  private final Ownership ownership;
  private final VolumeLock lock;
  private final Reloader reloader;
  private final ReentrantLock ownerLock = new ReentrantLock();
  private final List<Runnable> onAcquired = new CopyOnWriteArrayList<>();
  /** The counters of the layers serving this volume (the NBD export's queue and RAM tier). */
  private final List<Supplier<Usage>> usageSources = new CopyOnWriteArrayList<>();
  private volatile boolean owner;
  private volatile String fenced;
  // Read by the uploader's thread (stillOwned), written by whichever thread acquires.
  private volatile long epoch;

  /**
   * @param volume the volume, whose holder is registered with ownership and whose meta names the lease
   * @param epoch the lease epoch taken at open, 0 on standby. Known before the uploader starts:
   *     replaying the journal at open may already ask {@link #stillOwned}.
   */
  Tenure(Host volume, Ownership ownership, VolumeLock lock, Reloader reloader, long epoch) {
    this.volume = volume;
    this.ownership = ownership;
    this.lock = lock;
    this.reloader = reloader;
    this.epoch = epoch;
    this.owner = epoch > 0;
  }

  /** Once the volume is open: an owner's lease is renewed from now on. */
  void begin() {
    if (owner) {
      ownership.register(volume.meta(), epoch, volume.holder());
    }
  }

  boolean isOwner() {
    return owner;
  }

  /** Why the volume stopped, if another owner took it from under it; null while it has not. */
  String fencedReason() {
    return fenced;
  }

  void onAcquired(Runnable action) {
    onAcquired.add(action);
  }

  void countUsage(Supplier<Usage> source) {
    usageSources.add(source);
  }

  Usage usage() {
    Usage total = Usage.ZERO;
    for (Supplier<Usage> source : usageSources) {
      total = total.plus(source.get());
    }
    return total;
  }

  /** Takes the volume from its owner if this process is on standby, and loads its state. */
  void ensureOwner() throws IOException {
    if (owner) {
      return;
    }
    ownerLock.lock();
    try {
      if (owner) {
        return;
      }
      volume.checkOpen();
      lock.claiming(ownership.instance());
      long taken = ownership.acquire(volume.meta());
      try {
        lock.ownerEpoch(taken);
        volume.reload(reloader.load(volume.meta()));
        // Before anything is served again; a failing action gives the lease back, like a failed load.
        onAcquired.forEach(Runnable::run);
      } catch (IOException | RuntimeException e) {
        ownership.release(volume.meta(), taken);
        throw e;
      }
      epoch = taken;
      ownership.register(volume.meta(), taken, volume.holder());
      owner = true;
    } finally {
      ownerLock.unlock();
    }
  }

  /**
   * Takes the volume's writeOrder as the owner: no handover can happen until the caller unlocks
   * it. A handover between the ownership check and the lock asks for the volume back.
   */
  void lockAsOwner() throws IOException {
    while (true) {
      ensureOwner();
      volume.writeOrder().lock();
      if (owner) {
        return;
      }
      volume.writeOrder().unlock();
    }
  }

  /**
   * Another process asked for the volume: everything journaled goes to the store, a checkpoint
   * follows (so the next owner loads quickly), and the lease is marked released. Writers wait
   * meanwhile, on writeOrder, and then ask for it back.
   */
  void handOver() throws IOException {
    volume.writeOrder().lock();
    try {
      if (!owner || volume.closed()) {
        return;
      }
      volume.drainAndCheckpoint(HANDOVER_DRAIN);
      owner = false;
      ownership.release(volume.meta(), epoch);
    } finally {
      volume.writeOrder().unlock();
    }
  }

  /** At close: the lease goes if the store holds every change, and stays put if it does not. */
  void close(boolean drained) throws IOException {
    if (owner && drained) {
      owner = false;
      ownership.release(volume.meta(), epoch);
    } else if (owner) {
      // Changes the store lacks stay in the journal and this node's lease stays as it is:
      // reopening here takes it back and replays them.
      ownership.abandon(volume.meta());
    }
  }

  /** Another owner took the lease: the volume stops, and says where its unuploaded changes are. */
  void lost(String why) {
    fenced = why + "; changes this node had not uploaded yet stay in its journal (" + lock.dir() + ")";
    owner = false;
  }

  /** Is the lease still this process's (asked of the store)? */
  boolean stillOwned() throws IOException {
    return ownership.owns(volume.meta(), epoch);
  }
}
