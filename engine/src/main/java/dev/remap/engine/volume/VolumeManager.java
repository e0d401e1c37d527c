package dev.remap.engine.volume;

import dev.remap.engine.cache.ObjectReader;
import dev.remap.engine.core.Geometry;
import dev.remap.engine.core.MappingCodec;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The volumes of one store: create, list, open, grow, delete, snapshot and clone (the last two
 * done by {@link VolumeSnapshots}). Every operation either completes or leaves nothing behind
 * that a user would see: the metadata object is written last on create (and first removed on
 * delete), so a half-made volume is never listed.
 *
 * <p>A volume is served by one process at a time; {@link #open} takes a lock next to its journal
 * so a second process on the same node gets a clear error instead of a corrupted volume.
 */
public final class VolumeManager {

  /** A volume as listed: its metadata. */
  public record VolumeInfo(VolumeMeta meta) {}

  /** A snapshot as listed. */
  public record SnapshotInfo(String volume, String name, long size, Instant created) {}

  private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(VolumeManager.class.getName());

  private final ObjectStore store;
  private final VolumeOptions options;
  private final ObjectReader reader;
  private final Ownership ownership;
  private final VolumeSnapshots snapshots;
  /** Started with the first volume opened for serving: see {@link StoreCollector}. */
  private volatile StoreCollector collector;
  /**
   * The volumes this manager has open for serving, by volume id, until they close. A second open
   * cannot take the node lock (the process holds it already), but operations that only need the
   * volume (a snapshot, a resize) use the served instance instead of failing.
   */
  private final java.util.Map<String, Volume> served = new java.util.concurrent.ConcurrentHashMap<>();
  /** What the volumes served here, and those closed within the grace, know is dead ({@link OwnGarbage}). */
  private final OwnGarbage.Registry ownGarbage;

  /** Volumes that read store objects directly (no disk cache). */
  public VolumeManager(ObjectStore store, VolumeOptions options) {
    this(store, options, (key, offset, dst) -> readFully(store, key, offset, dst));
  }

  /** Volumes that read store objects through reader (the disk cache tier). */
  public VolumeManager(ObjectStore store, VolumeOptions options, ObjectReader reader) {
    this.store = store;
    this.options = options;
    this.ownGarbage = new OwnGarbage.Registry(options.cleaning().collectGrace());
    this.reader = reader;
    this.ownership = new Ownership(store, options);
    this.snapshots = new VolumeSnapshots(store, reader);
  }

  private static void readFully(ObjectStore store, String key, long offset, ByteBuffer dst) throws IOException {
    long at = offset;
    while (dst.hasRemaining()) {
      int n = store.read(key, at, dst);
      if (n <= 0) {
        throw new IOException("object " + key + " ends before offset " + at + ": the store is damaged");
      }
      at += n;
    }
  }

  public ObjectStore store() {
    return store;
  }

  Ownership ownership() {
    return ownership;
  }

  public VolumeMeta create(String name, long size, int blockSize, int chunkSize) throws IOException {
    StoreLayout.requireName("volume", name);
    Geometry geometry = new Geometry(size, blockSize, chunkSize);
    VolumeMeta meta = new VolumeMeta(UUID.randomUUID().toString(), name, geometry, Instant.now(), null);
    if (!store.putIfAbsent(StoreLayout.meta(name), meta.encode())) {
      throw new VolumeException("volume " + name + " already exists in " + store.describe());
    }
    return meta;
  }

  public List<VolumeMeta> list() throws IOException {
    List<VolumeMeta> out = new ArrayList<>();
    for (ObjectInfo info : store.list(StoreLayout.metaPrefix())) {
      if (info.key().endsWith(".meta")) {
        try {
          out.add(VolumeMeta.decode(store.get(info.key()), info.key()));
        } catch (NoSuchObjectException deletedMeanwhile) {
          // Listed, then deleted by someone else: it is gone, which is what a listing now says.
        }
      }
    }
    return out;
  }

  public VolumeMeta meta(String name) throws IOException {
    StoreLayout.requireName("volume", name);
    try {
      return VolumeMeta.decode(store.get(StoreLayout.meta(name)), StoreLayout.meta(name));
    } catch (NoSuchObjectException e) {
      throw new VolumeException("volume " + name + " does not exist in " + store.describe());
    }
  }

  /** The instance of the volume this manager has open for serving, if it has one. */
  public Optional<Volume> served(String name) throws IOException {
    return served(meta(name));
  }

  private Optional<Volume> served(VolumeMeta meta) {
    return Optional.ofNullable(served.get(meta.id()));
  }

  public Optional<VolumeMeta> find(String name) throws IOException {
    try {
      return Optional.of(meta(name));
    } catch (VolumeException e) {
      return Optional.empty();
    }
  }

  /** Grows a volume: the served instance if this process serves it, else only its metadata. */
  public VolumeMeta resize(String name, long newSize) throws IOException {
    VolumeMeta meta = meta(name);
    Optional<Volume> open = served(meta);
    if (open.isPresent()) {
      return resize(open.get(), newSize);
    }
    VolumeMeta grown = meta.withSize(newSize);
    store.put(StoreLayout.meta(name), grown.encode());
    return grown;
  }

  /**
   * What the volume has served so far, across every process that owned it, as its owners last
   * published it in its lease (every few seconds while served); empty before anyone served it.
   */
  public Optional<Usage> usage(String name) throws IOException {
    VolumeMeta meta = meta(name);
    return ownership.read(name).filter(lease -> lease.volumeId().equals(meta.id())).map(LeaseRecord::usage);
  }

  /**
   * How much of the store the volume takes and whether its writes lack space, as its owner last
   * published it in its lease (every few seconds while served); empty before anyone served it.
   */
  public Optional<SpaceReport> space(String name) throws IOException {
    VolumeMeta meta = meta(name);
    return ownership.read(name).filter(lease -> lease.volumeId().equals(meta.id())).map(LeaseRecord::space);
  }

  /**
   * Brings the instance of a volume this process serves up to the size in the store, where
   * another process (the CSI controller) may have grown it, and returns the store's metadata.
   */
  public VolumeMeta refreshSize(String name) throws IOException {
    VolumeMeta meta = meta(name);
    Optional<Volume> open = served(meta);
    if (open.isPresent() && open.get().size() < meta.geometry().size()) {
      open.get().grow(meta);
    }
    return meta;
  }

  /** Grows a served volume: metadata first, then the mapping, so a crash in between is harmless. */
  public VolumeMeta resize(Volume volume, long newSize) throws IOException {
    VolumeMeta grown = volume.meta().withSize(newSize);
    store.put(StoreLayout.meta(volume.name()), grown.encode());
    volume.grow(grown);
    return grown;
  }

  /**
   * Deletes a volume. Its snapshots and the clones made from them stay valid: they reference the
   * volume's segments, which garbage collection frees only once nothing references them.
   */
  public void delete(String name) throws IOException {
    VolumeMeta meta = meta(name);
    try (VolumeLock lock = VolumeLock.acquire(options.journalDir(), meta)) {
      Optional<LeaseRecord> owner = ownership.ownedElsewhere(meta);
      if (owner.isPresent()) {
        throw new VolumeException("volume " + name + " is in use by node " + owner.get().node()
            + ": detach it there first");
      }
      store.delete(StoreLayout.meta(name));
      ownership.forget(name);
      List<String> checkpoints = new ArrayList<>();
      for (ObjectInfo info : store.list(StoreLayout.checkpointPrefix(meta.id()))) {
        checkpoints.add(info.key());
      }
      store.deleteAll(checkpoints);
      store.delete(StoreLayout.synced(meta.id()));
      lock.deleteJournal();
    }
  }

  /**
   * Opens a volume for serving: loads its mapping from the store and replays its journal. It
   * owns the volume if nobody else does; otherwise it is on standby and takes the volume over on
   * its first request (see {@link Volume}).
   */
  public Volume open(String name) throws IOException {
    return open(name, Optional.empty());
  }

  /**
   * The same, with the volume's store reads going through its own reader (its local-disk tier)
   * instead of the manager's.
   */
  public Volume open(String name, Optional<ObjectReader> ownReader) throws IOException {
    VolumeMeta meta = meta(name);
    VolumeLock lock = VolumeLock.acquire(options.journalDir(), meta);
    long epoch = 0;
    try {
      epoch = claim(meta, lock);
      Loaded loaded = load(meta, epoch > 0);
      Volume volume = new Volume(store, new VolumeReader(ownReader.orElse(reader)), loaded.meta(),
          loaded.table(), loaded.lastSegment(), loaded.journalSeq(), options, lock, ownership, epoch, taken -> load(taken, true),
          collector()::requestSoon);
      served.put(meta.id(), volume);
      ownGarbage.opened(meta.id(), volume.ownGarbage());
      lock.onRelease(() -> {
        served.remove(meta.id(), volume);
        ownGarbage.closed(meta.id(), volume.ownGarbage());
        collectSoonIfStarted();
      });
      return volume;
    } catch (IOException | RuntimeException e) {
      if (epoch > 0) {
        ownership.release(meta, epoch);
      }
      lock.close();
      throw e;
    }
  }

  /**
   * The store's collector of this process, started at the first open: wherever volumes are
   * served, what their cleaners empty is deleted without waiting for the CSI controller.
   */
  private synchronized StoreCollector collector() {
    if (collector == null) {
      VolumeOptions.Cleaning c = options.cleaning();
      collector = StoreCollector.startServing(store, c.enabled() ? c.collectEvery() : Duration.ZERO, c.collectGrace(),
          ownGarbage);
    }
    return collector;
  }

  /** A closed volume's last checkpoint may have left segments behind: collected soon. */
  private void collectSoonIfStarted() {
    StoreCollector started = collector;
    if (started != null && options.cleaning().enabled()) {
      started.requestSoon(); // not under this manager's monitor, which stopCollecting holds while it waits
    }
  }

  /** Stops this process's collection (at shutdown, before the store is closed). */
  public synchronized void stopCollecting() {
    if (collector != null) {
      collector.close();
    }
  }

  /**
   * The lease at open: taken when free; when the journal holds changes, taken back (asking for it
   * if need be) unless another node owned the volume since, in which case those changes are stale
   * and set aside. Returns the epoch, 0 for standby.
   */
  private long claim(VolumeMeta meta, VolumeLock lock) throws IOException {
    if (lock.hasJournal()) {
      Optional<LeaseRecord> lease = ownership.read(meta.name());
      long mine = lock.ownerEpoch();
      // A newer lease taken for this journal by a predecessor killed before it recorded the
      // epoch is ours: nothing was journaled or uploaded under it (see VolumeLock#claiming).
      boolean ownNewer = lease.isPresent() && lock.claimant().filter(lease.get().instance()::equals).isPresent();
      if (lease.isPresent() && lease.get().volumeId().equals(meta.id()) && lease.get().epoch() > mine && !ownNewer) {
        java.nio.file.Path kept = lock.orphanJournal();
        LOG.warning(() -> "volume " + meta.name() + " was owned by node " + lease.get().node() + " (epoch "
            + lease.get().epoch() + ") after this node (epoch " + mine + ") stopped: the changes left in its "
            + "journal do not apply any more and were moved to " + kept);
      } else {
        lock.claiming(ownership.instance());
        long epoch = ownership.acquire(meta);
        lock.ownerEpoch(epoch);
        return epoch;
      }
    }
    lock.claiming(ownership.instance());
    java.util.OptionalLong taken = ownership.tryTake(meta);
    if (taken.isPresent()) {
      lock.ownerEpoch(taken.getAsLong());
      return taken.getAsLong();
    }
    return 0;
  }

  /** A volume's state in the store: its metadata now, and the mapping its segments give. */
  record Loaded(VolumeMeta meta, MappingTable table, long lastSegment, long journalSeq) {}

  /**
   * The volume's state in the store: its newest checkpoint and the segments after it, recovered
   * from a power cut by {@link SegmentRecovery} (by the owner only: owner false reads and changes
   * nothing it finds torn).
   */
  private Loaded load(VolumeMeta opened, boolean owner) throws IOException {
    VolumeMeta meta = meta(opened.name());
    if (!meta.id().equals(opened.id())) {
      throw new VolumeException("volume " + opened.name() + " was deleted (and made again) while open");
    }
    List<ObjectInfo> checkpoints = store.list(StoreLayout.checkpointPrefix(meta.id()));
    MappingTable table = new MappingTable(meta.geometry());
    long lastSegment = 0;
    long journalSeq = 0;
    if (!checkpoints.isEmpty()) {
      String key = checkpoints.get(checkpoints.size() - 1).key();
      MappingCodec.Decoded decoded = MappingCodec.decode(ByteBuffer.wrap(store.get(key)), key);
      table = decoded.table();
      lastSegment = decoded.segmentSeq();
      journalSeq = decoded.journalSeq();
    }
    SegmentRecovery.Replayed replayed = new SegmentRecovery(store)
        .replay(meta, grownTo(table, meta), lastSegment, journalSeq, owner);
    return new Loaded(meta, table, replayed.lastSegment(), replayed.journalSeq());
  }

  private static MappingTable grownTo(MappingTable table, VolumeMeta meta) {
    if (table.geometry().size() < meta.geometry().size()) {
      table.resize(meta.geometry().size());
    }
    return table;
  }

  /**
   * Takes a snapshot of a served volume: writers are held off while everything journaled
   * reaches the store, then the mapping is saved. No data is copied.
   */
  public SnapshotInfo snapshot(Volume volume, String snapshot) throws IOException {
    return snapshots.take(volume, snapshot);
  }

  /** Takes a snapshot by name: of the served instance if this process serves it, else opening it for the moment. */
  public SnapshotInfo snapshot(String name, String snapshot) throws IOException {
    Optional<Volume> open = served(meta(name));
    if (open.isPresent()) {
      return snapshots.take(open.get(), snapshot);
    }
    try (Volume volume = open(name)) {
      return snapshots.take(volume, snapshot);
    }
  }

  /** Opens volume@snapshot read-only (no lock needed: nothing about it ever changes). */
  public SnapshotDevice openSnapshot(String volume, String snapshot) throws IOException {
    return snapshots.open(volume, snapshot);
  }

  /**
   * What a clone or a disk made with {@link #createFrom} held when it was made (its checkpoint 0),
   * read-only; later writes are not in it.
   */
  public SnapshotDevice openOrigin(String volume) throws IOException {
    return snapshots.openOrigin(meta(volume));
  }

  public List<SnapshotInfo> snapshots(String volume) throws IOException {
    return snapshots.list(volume);
  }

  public void deleteSnapshot(String volume, String snapshot) throws IOException {
    snapshots.delete(volume, snapshot);
  }

  /** A new volume whose mapping starts as the snapshot's: copy-on-write, nothing copied. */
  public VolumeMeta clone(String volume, String snapshot, String newName) throws IOException {
    return snapshots.clone(volume, snapshot, newName);
  }

  /**
   * The key of the newest segment of volume name, if it has any: a cheap way (one LIST) to tell
   * whether a volume was written since an earlier look, without reading its data or taking it.
   */
  public Optional<String> newestSegment(String name) throws IOException {
    List<ObjectInfo> segments = store.list(StoreLayout.segmentPrefix(meta(name).id()));
    return segments.isEmpty() ? Optional.empty() : Optional.of(segments.get(segments.size() - 1).key());
  }

  /**
   * A new volume whose mapping starts as table, which must reference only immutable objects of
   * this store (a disk built of objects already stored, such as a share's image): nothing copied.
   */
  public VolumeMeta createFrom(String name, MappingTable table, String origin) throws IOException {
    return VolumeSnapshots.createFrom(store, table, name, origin);
  }

  /** The snapshot manifest stored under key (for {@link SnapshotTransfer#export}). */
  MappingCodec.Decoded readSnapshot(String key) throws IOException {
    return snapshots.read(key);
  }
}
