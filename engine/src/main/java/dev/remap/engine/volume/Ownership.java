package dev.remap.engine.volume;

import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
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
 */
final class Ownership implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Ownership.class.getName());

  /** What the owner of a volume does when asked for it or when it lost it. */
  interface Holder {
    /** Moves everything to the store and releases the lease (via {@link #release}). */
    void handOver() throws IOException;

    /** Another process took the lease: stop changing the volume. */
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

  private static final class Held {
    final VolumeMeta meta;
    final Holder holder;
    /** The usage the lease carried when this process took it, and the holder's own then. */
    final Usage inherited;
    final Usage holderAtStart;
    /** Likewise the space report, and the holder's cleaned bytes then. */
    final SpaceReport inheritedSpace;
    final long cleanedAtStart;
    volatile LeaseRecord lease;
    volatile long renewedNanos;

    Held(VolumeMeta meta, Holder holder, LeaseRecord lease, LeaseRecord taken) {
      this.meta = meta;
      this.holder = holder;
      this.lease = lease;
      this.inherited = taken.usage();
      this.holderAtStart = holder.usage();
      this.inheritedSpace = taken.space();
      this.cleanedAtStart = holderSpace(holder).cleanedBytes();
      this.renewedNanos = System.nanoTime();
    }

    /** The volume's usage so far: what was inherited plus what this process served since. */
    Usage usage() {
      return inherited.plus(holder.usage().minus(holderAtStart));
    }

    /**
     * The volume's space: this process's measurement once it has one (until then the one it
     * inherited, which says when it was taken), its no-space state, and the bytes cleaned by
     * every owner.
     */
    SpaceReport space() {
      SpaceReport now = holderSpace(holder);
      long cleaned = inheritedSpace.cleanedBytes() + Math.max(0, now.cleanedBytes() - cleanedAtStart);
      return (now.measured() ? now : inheritedSpace.withNoSpace(now.noSpace())).withCleanedBytes(cleaned);
    }

    /** A holder's report, never an exception: a figure for the status must not cost a renewal. */
    private static SpaceReport holderSpace(Holder holder) {
      try {
        return holder.space();
      } catch (RuntimeException e) {
        LOG.log(Level.FINE, "could not read a volume's space: " + e);
        return SpaceReport.UNKNOWN;
      }
    }
  }

  private final ObjectStore store;
  private final String node;
  private final String instance = UUID.randomUUID().toString();
  /** Each lease this process just took (for its usage and space), until {@link #register} takes it on. */
  private final Map<String, LeaseRecord> carried = new ConcurrentHashMap<>();
  private final Duration ttl;
  private final Duration handoverTimeout;
  private final Duration poll;
  private final Map<String, Held> held = new ConcurrentHashMap<>();
  private final Set<String> handling = ConcurrentHashMap.newKeySet();
  private ScheduledExecutorService timer;
  private ExecutorService handovers;

  Ownership(ObjectStore store, VolumeOptions options) {
    this.store = store;
    this.node = options.nodeId();
    this.ttl = options.leaseTtl();
    this.handoverTimeout = options.handoverTimeout();
    this.poll = Duration.ofMillis(Math.max(100, Math.min(1000, ttl.toMillis() / 10)));
  }

  static String key(String volume) {
    return StoreLayout.lease(volume);
  }

  static String requestPrefix(String volume) {
    return StoreLayout.requestPrefix(volume);
  }

  String node() {
    return node;
  }

  Optional<LeaseRecord> read(String volume) throws IOException {
    try {
      return Optional.of(LeaseRecord.decode(store.get(key(volume)), "the lease of volume " + volume));
    } catch (NoSuchObjectException e) {
      return Optional.empty();
    } catch (IllegalArgumentException damaged) {
      throw new VolumeException(damaged.getMessage() + "; delete " + key(volume) + " from the store to reset it");
    }
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
      LeaseRecord mine = lease(meta, 1);
      return store.putIfAbsent(key(meta.name()), mine.encode()) ? OptionalLong.of(1) : OptionalLong.empty();
    }
    LeaseRecord other = current.get();
    if (other.heldFor(meta.id()) && !other.node().equals(node)) {
      return OptionalLong.empty();
    }
    // Usage and space go on with the volume; a deleted namesake's lease has none of this volume's.
    return replace(meta, other.epoch() + 1, other.volumeId().equals(meta.id()) ? other : null);
  }

  /** Takes the lease at epoch, carrying on the usage and space of before (null: none). */
  private OptionalLong replace(VolumeMeta meta, long epoch, LeaseRecord before) throws IOException {
    LeaseRecord mine = lease(meta, epoch);
    if (before != null) {
      // Nobody writes the volume between two owners: no reason for a shortage goes on.
      mine = mine.withUsage(before.usage()).withSpace(before.space().withNoSpace(null));
    }
    store.put(key(meta.name()), mine.encode());
    Optional<LeaseRecord> after = read(meta.name());
    boolean won = after.isPresent() && after.get().instance().equals(instance) && after.get().epoch() == epoch;
    if (!won) {
      return OptionalLong.empty();
    }
    carried.put(meta.name(), after.get()); // for register, without reading the lease again
    return OptionalLong.of(epoch);
  }

  private LeaseRecord lease(VolumeMeta meta, long epoch) {
    return new LeaseRecord(meta.id(), node, instance, epoch, 0, ttl.toMillis(), System.currentTimeMillis(), false);
  }

  /**
   * Gets the lease, asking its owner to hand the volume over if there is one, and taking it from
   * an owner that stopped renewing. Returns the new epoch.
   *
   * @throws VolumeException naming the owner when it does not hand over within the timeout
   */
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
        if (current.isEmpty() || !current.get().heldFor(meta.id()) || current.get().node().equals(node)) {
          continue; // it was free (or a dead predecessor's) and another process won it: look again
        }
        LeaseRecord owner = current.get();
        if (request == null) {
          request = requestPrefix(meta.name()) + UUID.randomUUID() + ".release";
          String body = "from=" + node + "\nepoch=" + owner.epoch() + "\n";
          store.put(request, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
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
  synchronized void register(VolumeMeta meta, long epoch, Holder holder) {
    LeaseRecord lease = new LeaseRecord(meta.id(), node, instance, epoch, 0, ttl.toMillis(),
        System.currentTimeMillis(), false);
    LeaseRecord taken = java.util.Objects.requireNonNullElse(carried.remove(meta.name()), lease);
    held.put(meta.name(), new Held(meta, holder, lease, taken));
    if (timer == null) {
      timer = Executors.newSingleThreadScheduledExecutor(daemon("remap-lease"));
      handovers = Executors.newCachedThreadPool(daemon("remap-handover"));
      timer.scheduleWithFixedDelay(this::tick, poll.toMillis(), poll.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Gives the lease up: marked released, so the next owner takes it at once. */
  void release(VolumeMeta meta, long epoch) throws IOException {
    Held h = held.remove(meta.name());
    if (h == null) {
      // Not renewed here (never registered, or abandoned): no renewal can race with this write.
      writeReleased(meta, epoch, null);
      return;
    }
    synchronized (h) { // not while a renewal of it is between its read and its write
      writeReleased(meta, epoch, h);
    }
  }

  private void writeReleased(VolumeMeta meta, long epoch, Held h) throws IOException {
    Optional<LeaseRecord> current = read(meta.name());
    if (mine(current, epoch)) {
      LeaseRecord released = current.get().asReleased(System.currentTimeMillis());
      if (h != null) {
        // Nobody writes the volume once it is released: no reason for a shortage stays.
        released = released.withUsage(h.usage()).withSpace(h.space().withNoSpace(null));
      }
      store.put(key(meta.name()), released.encode());
    }
  }

  /** Stops renewing without releasing (the journal still holds changes the store lacks). */
  void abandon(VolumeMeta meta) {
    held.remove(meta.name());
  }

  /** Is the lease still this process's at epoch (checked against the store)? */
  boolean owns(VolumeMeta meta, long epoch) throws IOException {
    Optional<LeaseRecord> current = read(meta.name());
    return mine(current, epoch) && !current.get().released();
  }

  private boolean mine(Optional<LeaseRecord> lease, long epoch) {
    return lease.isPresent() && lease.get().instance().equals(instance) && lease.get().epoch() == epoch;
  }

  /** Another node owns the volume and renewed within twice its ttl (by this clock; for refusals only). */
  Optional<LeaseRecord> ownedElsewhere(VolumeMeta meta) throws IOException {
    Optional<LeaseRecord> current = read(meta.name());
    return current.filter(l -> l.heldFor(meta.id()) && !l.instance().equals(instance) && !l.node().equals(node)
        && System.currentTimeMillis() - l.renewedAtMillis() < 2 * l.ttlMillis());
  }

  /** Removes a deleted volume's lease. */
  void forget(String volume) throws IOException {
    store.delete(key(volume));
  }

  private void tick() {
    long now = System.nanoTime();
    for (Held h : held.values()) {
      if (now - h.renewedNanos >= ttl.toNanos() / 3) {
        renew(h);
      }
    }
    if (!held.isEmpty()) {
      answerRequests();
    } else {
      stopIfIdle();
    }
  }

  /** Owning nothing, the process needs no timer (many short-lived managers must not leave threads). */
  private synchronized void stopIfIdle() {
    if (held.isEmpty() && timer != null) {
      timer.shutdown();
      handovers.shutdown();
      timer = null;
      handovers = null;
    }
  }

  private void renew(Held h) {
    synchronized (h) {
      if (held.get(h.meta.name()) == h) {
        renewHeld(h);
      }
    }
  }

  private void renewHeld(Held h) {
    try {
      Optional<LeaseRecord> current = read(h.meta.name());
      LeaseRecord mine = h.lease;
      if (!mine(current, mine.epoch())) {
        if (held.remove(h.meta.name(), h)) {
          String by = current.map(l -> "node " + l.node() + " (epoch " + l.epoch() + ")").orElse("nobody");
          h.holder.lost("volume " + h.meta.name() + " was taken over by " + by
              + " after this node did not renew its lease in time");
        }
        return;
      }
      LeaseRecord renewed = current.get().renewed(System.currentTimeMillis()).withUsage(h.usage())
          .withSpace(h.space());
      store.put(key(h.meta.name()), renewed.encode());
      h.lease = renewed;
      h.renewedNanos = System.nanoTime();
    } catch (IOException | RuntimeException e) {
      // Keep serving: others take over only after two ttl without a renewal, and a stale owner's
      // uploads cannot overwrite theirs (segments are put-if-absent).
      LOG.log(Level.WARNING, "renewing the lease of volume " + h.meta.name() + " failed: " + e.getMessage());
    }
  }

  private void answerRequests() {
    try {
      for (ObjectInfo info : store.list(StoreLayout.REQUESTS)) {
        String key = info.key();
        if (!key.endsWith(".release")) {
          continue;
        }
        String volume = StoreLayout.volumeOfRequest(key);
        Held h = held.get(volume);
        if (h == null || !handling.add(key)) {
          continue;
        }
        if (requestedEpoch(key) < h.lease.epoch()) {
          // Asked of an earlier owner by a process that has given up since: nobody waits for it.
          store.delete(key);
          handling.remove(key);
          continue;
        }
        handovers.execute(() -> {
          try {
            LOG.info(() -> "handing volume " + volume + " over (" + key + ")");
            h.holder.handOver();
          } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "could not hand volume " + volume + " over: " + e.getMessage());
          } finally {
            handling.remove(key);
          }
        });
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.FINE, "listing handover requests failed: " + e.getMessage());
    }
  }

  private long requestedEpoch(String key) throws IOException {
    try {
      for (String line : new String(store.get(key), StandardCharsets.UTF_8).split("\n")) {
        if (line.startsWith("epoch=")) {
          return Long.parseLong(line.substring("epoch=".length()));
        }
      }
    } catch (NoSuchObjectException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  @Override
  public synchronized void close() {
    if (timer != null) {
      timer.shutdownNow();
      handovers.shutdownNow();
      timer = null;
      handovers = null;
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
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
