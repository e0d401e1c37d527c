package dev.remap.engine.volume;

import dev.remap.engine.cache.ObjectReader;
import dev.remap.engine.core.Geometry;
import dev.remap.engine.core.MappingCodec;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager.SnapshotInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The snapshots of one store's volumes and the clones made from them, for {@link VolumeManager}
 * (whose public methods are the API; it finds or opens the volume to snapshot). A snapshot is a
 * manifest, {@code snapshots/NAME/SNAP.map}: the volume's {@code stored} mapping, so taking one
 * copies no data, and neither does a clone, whose checkpoint 0 is that mapping.
 *
 * <p>Locking: this class holds no lock and no state but the store and reader it was given. Taking
 * a snapshot holds the volume's writers off through {@link Volume#quiesced} (its writeOrder, see
 * the package's lock order); two snapshots or clones of the same name race only in the store,
 * where {@code putIfAbsent} lets one win and the other fail with a clear error.
 */
final class VolumeSnapshots {

  /** How long a snapshot waits for the volume's journal to reach the store before giving up. */
  private static final Duration QUIESCE_TIMEOUT = Duration.ofMinutes(5);

  private final ObjectStore store;
  /** What snapshot devices read segments through: the manager's reader (maybe the disk cache). */
  private final ObjectReader reader;

  VolumeSnapshots(ObjectStore store, ObjectReader reader) {
    this.store = store;
    this.reader = reader;
  }

  /**
   * Takes a snapshot of an open volume: writers are held off while everything journaled
   * reaches the store, then the mapping is saved. No data is copied.
   */
  SnapshotInfo take(Volume volume, String snapshot) throws IOException {
    StoreLayout.requireName("snapshot", snapshot);
    String key = StoreLayout.snapshot(volume.name(), snapshot);
    if (store.stat(key).isPresent()) {
      throw new VolumeException("snapshot " + volume.name() + "@" + snapshot + " already exists");
    }
    // The manifest is written while writers and the uploader are held off: once they go on, the
    // cleaner may empty a segment it references and a collection delete that segment, unless the
    // manifest is already in the store to keep it.
    boolean written = volume.quiesced(QUIESCE_TIMEOUT, () -> store.putIfAbsent(key,
        ByteBuffer.wrap(MappingCodec.encode(volume.stored.current(), 0, 0))));
    if (!written) {
      throw new VolumeException("snapshot " + volume.name() + "@" + snapshot + " already exists");
    }
    return new SnapshotInfo(volume.name(), snapshot, volume.size(), Instant.now());
  }

  /** volume@snapshot as a read-only device (no lock needed: nothing about it ever changes). */
  SnapshotDevice open(String volume, String snapshot) throws IOException {
    return new SnapshotDevice(volume + "@" + snapshot, read(manifestKey(volume, snapshot)).table(), reader);
  }

  /** The volume's checkpoint 0 (a clone's or a built disk's starting mapping) served read-only. */
  SnapshotDevice openOrigin(VolumeMeta meta) throws IOException {
    String key = StoreLayout.checkpoint(meta.id(), 0);
    MappingCodec.Decoded decoded;
    try {
      decoded = MappingCodec.decode(ByteBuffer.wrap(store.get(key)), key);
    } catch (NoSuchObjectException e) {
      throw new VolumeException("volume " + meta.name() + " has no starting mapping: it was not made from a mapping");
    }
    return new SnapshotDevice(meta.name() + "@origin", decoded.table(), reader);
  }

  List<SnapshotInfo> list(String volume) throws IOException {
    StoreLayout.requireName("volume", volume);
    List<SnapshotInfo> out = new ArrayList<>();
    for (ObjectInfo info : store.list(StoreLayout.snapshotPrefix(volume))) {
      MappingTable table = read(info.key()).table();
      out.add(new SnapshotInfo(volume, StoreLayout.nameOf(info.key(), ".map"), table.geometry().size(),
          info.lastModified()));
    }
    return out;
  }

  void delete(String volume, String snapshot) throws IOException {
    String key = manifestKey(volume, snapshot);
    if (store.stat(key).isEmpty()) {
      throw new VolumeException("snapshot " + volume + "@" + snapshot + " does not exist");
    }
    store.delete(key);
  }

  /** A new volume whose mapping starts as the snapshot's: copy-on-write, nothing copied. */
  VolumeMeta clone(String volume, String snapshot, String newName) throws IOException {
    StoreLayout.requireName("volume", newName);
    return createFrom(store, read(manifestKey(volume, snapshot)).table(), newName, volume + "@" + snapshot);
  }

  /**
   * A new volume whose checkpoint 0 is table (which references only immutable objects): a clone,
   * or a disk made of objects already in the store. Nothing is copied.
   */
  static VolumeMeta createFrom(ObjectStore store, MappingTable table, String newName, String origin)
      throws IOException {
    StoreLayout.requireName("volume", newName);
    VolumeMeta meta = new VolumeMeta(UUID.randomUUID().toString(), newName, table.geometry(), Instant.now(), origin);
    if (store.stat(StoreLayout.meta(newName)).isPresent()) {
      throw new VolumeException("volume " + newName + " already exists in " + store.describe());
    }
    // The checkpoint first: until the metadata exists nobody sees the volume, and a failure
    // leaves only an unreferenced checkpoint that garbage collection removes.
    store.put(StoreLayout.checkpoint(meta.id(), 0), ByteBuffer.wrap(MappingCodec.encode(table, 0, 0)));
    if (!store.putIfAbsent(StoreLayout.meta(newName), meta.encode())) {
      store.delete(StoreLayout.checkpoint(meta.id(), 0));
      throw new VolumeException("volume " + newName + " already exists in " + store.describe());
    }
    return meta;
  }


  /** The manifest stored under key, or an error naming the snapshot the user asked for. */
  MappingCodec.Decoded read(String key) throws IOException {
    try {
      return MappingCodec.decode(ByteBuffer.wrap(store.get(key)), key);
    } catch (NoSuchObjectException e) {
      String file = StoreLayout.snapshotPath(key);
      throw new VolumeException("snapshot " + file.replace('/', '@') + " does not exist");
    }
  }

  /** The manifest's key, the names checked first so that a bad one is reported as such. */
  private static String manifestKey(String volume, String snapshot) {
    return StoreLayout.snapshot(StoreLayout.requireName("volume", volume),
        StoreLayout.requireName("snapshot", snapshot));
  }
}
