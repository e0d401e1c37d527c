package dev.remap.engine.volume;

import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * One owner per volume across every process and node that serves a store. The OS lock next to a
 * journal ({@link VolumeLock}) keeps a second process of the same node away; this keeps other
 * nodes away, through a lease object in the store ({@link LeaseRecord}), and hands a volume over
 * when another process needs it (a VM live-migrating to another node, a controller taking a
 * snapshot of a volume a node serves).
 *
 * <pre>
 * leases/NAME.lease            the lease (kept, marked released, when nobody owns the volume)
 * requests/NAME/ID.release     "please hand NAME over": posted by a process that waits for it
 * </pre>
 *
 * <p>Protocol. A process takes a free lease with putIfAbsent, or by replacing a released one (then
 * reading it back: of two that raced, the one whose lease is in the store won). To get a volume
 * another process owns, it posts a release request and watches the lease; the owner, which lists
 * the requests every poll interval, drains its journal to the store, writes a checkpoint and marks
 * its lease released, and the waiter takes it. An owner renews every ttl/3 by bumping the serial;
 * a waiter that sees the serial stand still for two ttl on its own clock presumes the owner dead
 * and takes over (no clock comparison between nodes). An owner that finds its lease taken stops
 * (see {@link Holder#lost}); segments are written with putIfAbsent, so a stale owner cannot
 * overwrite the new owner's data either.
 *
 * <p>Costs on S3: a renewal is a GET and a PUT per owned volume every ttl/3; the request poll is
 * one LIST per process every poll interval while it owns anything.
 *
 * <p>This class is the way in, and the taking side: reading a lease, taking it, asking its owner
 * for it ({@link #acquire}). Once a volume is registered, {@link LeaseKeeper} keeps its lease:
 * renews it, answers the requests for it, releases it. Both read and write leases through one
 * {@link LeaseIo}, which knows this process's identity in them.
 *
 * <p>Locking: none here; {@code carried} is a concurrent map, and the monitors are the keeper's
 * (leaves, see there). {@link #acquire} sleeps and calls the store holding no lock of this class.
 */
final class Ownership implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Ownership.class.getName());

  /** What the owner of a volume does when asked for it or when it lost it. */
  interface Holder {
    /** Moves everything to the store and releases the lease (via {@link #release}). */
    void handOver() throws IOException;

    /** Another process took the lease: stop changing the volume (called under a lease's leaf monitor: lock nothing). */
    void lost(String why);

    /** What this process has served of the volume so far (cumulative over its life). */
    default Usage usage() {
      return Usage.ZERO;
    }

    /** The volume's space as this process measures it now (cleanedBytes: since it opened the volume). */
    default SpaceReport space() {
      return SpaceReport.UNKNOWN;
    }
  }

  private final ObjectStore store;
  private final LeaseIo leases;
  private final LeaseKeeper keeper;
  /** Each lease this process just took (for its usage and space), until {@link #register} takes it on. */
  private final Map<String, LeaseRecord> carried = new ConcurrentHashMap<>();
  private final Duration handoverTimeout;
  private final Duration poll;

  Ownership(ObjectStore store, VolumeOptions options) {
    Duration ttl = options.leaseTtl();
    this.store = store;
    this.leases = new LeaseIo(store, options.nodeId(), ttl);
    this.handoverTimeout = options.handoverTimeout();
    this.poll = Duration.ofMillis(Math.max(100, Math.min(1000, ttl.toMillis() / 10)));
    this.keeper = new LeaseKeeper(store, leases, ttl, poll);
  }

  static String key(String volume) {
    return StoreLayout.lease(volume);
  }

  static String requestPrefix(String volume) {
    return StoreLayout.requestPrefix(volume);
  }

  String node() {
    return leases.node();
  }

  Optional<LeaseRecord> read(String volume) throws IOException {
    return leases.read(volume);
  }

  /**
   * Takes the lease unless another process holds it; returns the new epoch. The caller holds the
   * volume's node lock, so a lease of this node held by another instance is a dead predecessor's.
   */
  OptionalLong tryTake(VolumeMeta meta) throws IOException {
    return tryTake(meta, read(meta.name()));
  }

  /** The same, given the lease as just read. */
  private OptionalLong tryTake(VolumeMeta meta, Optional<LeaseRecord> current) throws IOException {
    if (current.isEmpty()) {
      carried.remove(meta.name());
      LeaseRecord mine = leases.fresh(meta, 1);
      return leases.create(meta.name(), mine) ? OptionalLong.of(1) : OptionalLong.empty();
    }
    LeaseRecord other = current.get();
    if (other.heldFor(meta.id()) && !other.node().equals(node())) {
      return OptionalLong.empty();
    }
    // Usage and space go on with the volume; a deleted namesake's lease has none of this volume's.
    return replace(meta, other.epoch() + 1, other.volumeId().equals(meta.id()) ? other : null);
  }

  /** Takes the lease at epoch, carrying on the usage and space of before (null: none). */
  private OptionalLong replace(VolumeMeta meta, long epoch, LeaseRecord before) throws IOException {
    LeaseRecord mine = leases.fresh(meta, epoch);
    if (before != null) {
      // Nobody writes the volume between two owners: no reason for a shortage goes on.
      mine = mine.withUsage(before.usage()).withSpace(before.space().withNoSpace(null));
    }
    leases.write(meta.name(), mine);
    Optional<LeaseRecord> after = read(meta.name());
    if (!leases.mine(after, epoch)) {
      return OptionalLong.empty();
    }
    carried.put(meta.name(), after.get()); // for register, without reading the lease again
    return OptionalLong.of(epoch);
  }

  /**
   * Gets the lease, asking its owner to hand the volume over if there is one, and taking it from
   * an owner that stopped renewing. Returns the new epoch.
   *
   * @throws VolumeException naming the owner when it does not hand over within the timeout
   */
  /** This process's instance id, as its leases carry it. */
  String instance() {
    return leases.instance();
  }

  long acquire(VolumeMeta meta) throws IOException {
    long deadline = System.nanoTime() + handoverTimeout.toNanos();
    String request = null;
    long seenSerial = -1;
    long seenAt = 0;
    try {
      while (true) {
        Optional<LeaseRecord> current = read(meta.name());
        OptionalLong taken = tryTake(meta, current);
        if (taken.isPresent()) {
          return taken.getAsLong();
        }
        if (current.isEmpty() || !current.get().heldFor(meta.id()) || current.get().node().equals(node())) {
          continue; // it was free (or a dead predecessor's) and another process won it: look again
        }
        LeaseRecord owner = current.get();
        if (request == null) {
          request = requestPrefix(meta.name()) + UUID.randomUUID() + ".release";
          store.put(request, LeaseKeeper.requestBody(node(), owner.epoch()));
        }
        long now = System.nanoTime();
        if (owner.serial() != seenSerial) {
          seenSerial = owner.serial();
          seenAt = now;
        } else if (now - seenAt > 2 * TimeUnit.MILLISECONDS.toNanos(owner.ttlMillis())) {
          LOG.warning(() -> "node " + owner.node() + " stopped renewing its lease of volume " + meta.name()
              + " (epoch " + owner.epoch() + "); taking the volume over");
          taken = replace(meta, owner.epoch() + 1, owner);
          if (taken.isPresent()) {
            return taken.getAsLong();
          }
        }
        if (now > deadline) {
          throw new VolumeException("volume " + meta.name() + " is in use by node " + owner.node()
              + ", which did not hand it over within " + handoverTimeout.toSeconds() + " s");
        }
        sleep(Math.min(100, poll.toMillis()));
      }
    } finally {
      if (request != null) {
        try {
          store.delete(request);
        } catch (IOException e) {
          LOG.fine(() -> "could not remove request " + e.getMessage());
        }
      }
    }
  }

  /** The process now owns meta at epoch: renew its lease and answer requests for it. */
  void register(VolumeMeta meta, long epoch, Holder holder) {
    LeaseRecord lease = leases.fresh(meta, epoch);
    LeaseRecord taken = Objects.requireNonNullElse(carried.remove(meta.name()), lease);
    keeper.keep(meta, holder, lease, taken);
  }

  /** Gives the lease up: marked released, so the next owner takes it at once. */
  void release(VolumeMeta meta, long epoch) throws IOException {
    keeper.release(meta, epoch);
  }

  /** Stops renewing without releasing (the journal still holds changes the store lacks). */
  void abandon(VolumeMeta meta) {
    keeper.abandon(meta);
  }

  /** Is the lease still this process's at epoch (checked against the store)? */
  boolean owns(VolumeMeta meta, long epoch) throws IOException {
    Optional<LeaseRecord> current = read(meta.name());
    return leases.mine(current, epoch) && !current.get().released();
  }

  /** Another node owns the volume and renewed within twice its ttl (by this clock; for refusals only). */
  Optional<LeaseRecord> ownedElsewhere(VolumeMeta meta) throws IOException {
    Optional<LeaseRecord> current = read(meta.name());
    return current.filter(l -> l.heldFor(meta.id()) && !l.instance().equals(leases.instance())
        && !l.node().equals(node()) && System.currentTimeMillis() - l.renewedAtMillis() < 2 * l.ttlMillis());
  }

  /** Removes a deleted volume's lease. */
  void forget(String volume) throws IOException {
    leases.delete(volume);
  }

  @Override
  public void close() {
    keeper.close();
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting for a volume's lease");
    }
  }
}
