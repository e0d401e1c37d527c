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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps the leases one process holds, until it releases or abandons them; the other half of
 * {@link Ownership}, which takes them. A timer, running only while something is held, renews each
 * held lease every ttl/3 (bumping its serial and publishing the volume's usage and space), tells
 * the holder when it finds the lease taken ({@link Ownership.Holder#lost}), and lists the release
 * requests every poll interval, asking the holder of a requested volume to hand it over on a
 * thread of its own. Releasing writes the lease marked released, with the volume's last figures.
 *
 * <p>Locking: this object's monitor keeps starting and stopping the timer in step with the held
 * map; a {@link Held}'s monitor keeps a renewal's read-then-write of that lease apart from its
 * release. Both are leaves: the holder's usage and space, which it reads under the volume's own
 * locks, are read before either is taken, and {@code lost} (called under a Held's) takes no
 * lock. A handover runs on its own thread, holding none of them.
 */
final class LeaseKeeper {

  private static final Logger LOG = Logger.getLogger(LeaseKeeper.class.getName());

  private static final class Held {
    final VolumeMeta meta;
    final Ownership.Holder holder;
    /** The usage the lease carried when this process took it, and the holder's own then. */
    final Usage inherited;
    final Usage holderAtStart;
    /** Likewise the space report, and the holder's cleaned bytes then. */
    final SpaceReport inheritedSpace;
    final long cleanedAtStart;
    volatile LeaseRecord lease;
    volatile long renewedNanos;

    Held(VolumeMeta meta, Ownership.Holder holder, LeaseRecord lease, LeaseRecord taken) {
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
    private static SpaceReport holderSpace(Ownership.Holder holder) {
      try {
        return holder.space();
      } catch (RuntimeException e) {
        LOG.log(Level.FINE, "could not read a volume's space: " + e);
        return SpaceReport.UNKNOWN;
      }
    }
  }

  private final ObjectStore store;
  private final LeaseIo leases;
  private final Duration ttl;
  private final Duration poll;
  private final Map<String, Held> held = new ConcurrentHashMap<>();
  /** Release requests being answered now, so that the next poll does not answer them again. */
  private final Set<String> handling = ConcurrentHashMap.newKeySet();
  private ScheduledExecutorService timer;
  private ExecutorService handovers;

  LeaseKeeper(ObjectStore store, LeaseIo leases, Duration ttl, Duration poll) {
    this.store = store;
    this.leases = leases;
    this.ttl = ttl;
    this.poll = poll;
  }

  /** What a waiter posts as a release request: who asks, and of which owner (its epoch). */
  static ByteBuffer requestBody(String from, long epoch) {
    String body = "from=" + from + "\nepoch=" + epoch + "\n";
    return ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Renews lease (this process's, as just written) from now on, and answers requests for its
   * volume; taken is the lease as this process took it, whose usage and space go on.
   */
  void keep(VolumeMeta meta, Ownership.Holder holder, LeaseRecord lease, LeaseRecord taken) {
    Held h = new Held(meta, holder, lease, taken); // outside the monitor: it reads the holder's figures
    synchronized (this) {
      held.put(meta.name(), h);
      if (timer == null) {
        timer = Executors.newSingleThreadScheduledExecutor(daemon("remap-lease"));
        handovers = Executors.newCachedThreadPool(daemon("remap-handover"));
        timer.scheduleWithFixedDelay(this::tick, poll.toMillis(), poll.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }

  /** Stops renewing meta's lease and writes it released, if it is still this process's at epoch. */
  void release(VolumeMeta meta, long epoch) throws IOException {
    Held h = held.remove(meta.name());
    if (h == null) {
      // Not renewed here (never registered, or abandoned): no renewal can race with this write.
      writeReleased(meta, epoch, UnaryOperator.identity());
      return;
    }
    Usage usage = h.usage();
    // Nobody writes the volume once it is released: no reason for a shortage stays.
    SpaceReport space = h.space().withNoSpace(null);
    synchronized (h) { // not while a renewal of it is between its read and its write
      writeReleased(meta, epoch, released -> released.withUsage(usage).withSpace(space));
    }
  }

  private void writeReleased(VolumeMeta meta, long epoch, UnaryOperator<LeaseRecord> figures) throws IOException {
    Optional<LeaseRecord> current = leases.read(meta.name());
    if (leases.mine(current, epoch)) {
      leases.write(meta.name(), figures.apply(current.get().asReleased(System.currentTimeMillis())));
    }
  }

  /** Stops renewing without releasing. */
  void abandon(VolumeMeta meta) {
    held.remove(meta.name());
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
    try {
      Usage usage = h.usage();
      SpaceReport space = h.space();
      synchronized (h) {
        if (held.get(h.meta.name()) == h) {
          renewHeld(h, usage, space);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Keep serving: others take over only after two ttl without a renewal, and a stale owner's
      // uploads cannot overwrite theirs (segments are put-if-absent).
      LOG.log(Level.WARNING, "renewing the lease of volume " + h.meta.name() + " failed: " + e.getMessage());
    }
  }

  private void renewHeld(Held h, Usage usage, SpaceReport space) throws IOException {
    Optional<LeaseRecord> current = leases.read(h.meta.name());
    if (!leases.mine(current, h.lease.epoch())) {
      if (held.remove(h.meta.name(), h)) {
        String by = current.map(l -> "node " + l.node() + " (epoch " + l.epoch() + ")").orElse("nobody");
        h.holder.lost("volume " + h.meta.name() + " was taken over by " + by
            + " after this node did not renew its lease in time");
      }
      return;
    }
    LeaseRecord renewed = current.get().renewed(System.currentTimeMillis()).withUsage(usage).withSpace(space);
    leases.write(h.meta.name(), renewed);
    h.lease = renewed;
    h.renewedNanos = System.nanoTime();
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

  /** The owner's epoch a request (see {@link #requestBody}) was posted for; -1 if it cannot tell. */
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

  /** Stops the timer and any handover in progress; held leases stay as they are in the store. */
  synchronized void close() {
    if (timer != null) {
      timer.shutdownNow();
      handovers.shutdownNow();
      timer = null;
      handovers = null;
    }
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
