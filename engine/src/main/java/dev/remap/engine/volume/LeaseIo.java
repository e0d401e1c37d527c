package dev.remap.engine.volume;

import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * The lease objects in the store ({@code leases/NAME.lease}, a {@link LeaseRecord} each) as one
 * process sees them: who this process is in them (its node id, and an instance id of its own, so
 * two processes of one node differ), reading a lease, and writing one. No protocol here: taking a
 * lease and asking for it is {@link Ownership}'s, keeping it and handing it over
 * {@link LeaseKeeper}'s; both go through this so that they agree on what a lease of this process
 * is.
 *
 * <p>Locking: none. Nothing changes after construction; every method is a call to the store.
 */
final class LeaseIo {

  private final ObjectStore store;
  private final String node;
  private final String instance = UUID.randomUUID().toString();
  private final Duration ttl;

  LeaseIo(ObjectStore store, String node, Duration ttl) {
    this.store = store;
    this.node = node;
    this.ttl = ttl;
  }

  String node() {
    return node;
  }

  String instance() {
    return instance;
  }

  Optional<LeaseRecord> read(String volume) throws IOException {
    String key = StoreLayout.lease(volume);
    try {
      return Optional.of(LeaseRecord.decode(store.get(key), "the lease of volume " + volume));
    } catch (NoSuchObjectException e) {
      return Optional.empty();
    } catch (IllegalArgumentException damaged) {
      throw new VolumeException(damaged.getMessage() + "; delete " + key + " from the store to reset it");
    }
  }

  /** A new lease of meta for this process at epoch, renewed now and never yet. */
  LeaseRecord fresh(VolumeMeta meta, long epoch) {
    return new LeaseRecord(meta.id(), node, instance, epoch, 0, ttl.toMillis(), System.currentTimeMillis(), false);
  }

  /** Is lease this process's, at epoch (released or not)? */
  boolean mine(Optional<LeaseRecord> lease, long epoch) {
    return lease.isPresent() && lease.get().instance().equals(instance) && lease.get().epoch() == epoch;
  }

  /** Writes lease unless the volume has one; false if it has. */
  boolean create(String volume, LeaseRecord lease) throws IOException {
    return store.putIfAbsent(StoreLayout.lease(volume), lease.encode());
  }

  void write(String volume, LeaseRecord lease) throws IOException {
    store.put(StoreLayout.lease(volume), lease.encode());
  }

  void delete(String volume) throws IOException {
    store.delete(StoreLayout.lease(volume));
  }
}
