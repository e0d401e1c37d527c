package dev.remap.csi.controller;

import com.google.protobuf.Timestamp;
import dev.remap.csi.spec.Csi;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeManager.SnapshotInfo;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The controller's view of the snapshots in the store. CSI snapshot names are global while the
 * store keeps snapshots under their volume, so finding a snapshot by name lists the snapshot
 * manifests of every volume (a listing of small keys, no manifest is read). Snapshots of a deleted
 * volume stay listed and usable: their manifests reference the data, not the volume.
 *
 * <p>A snapshot is ready_to_use as soon as it exists: the engine writes its manifest only after the
 * volume's journal has reached the store, so its creation time is final and its data durable.
 * Callers hold the name locks; nothing here locks.
 */
final class SnapshotCatalog {

  private static final String PREFIX = StoreLayout.SNAPSHOTS;

  private final VolumeManager manager;

  SnapshotCatalog(VolumeManager manager) {
    this.manager = manager;
  }

  /** Every snapshot id in the store, hidden ones excluded, sorted. */
  List<Ids.SnapshotId> ids() throws IOException {
    List<Ids.SnapshotId> ids = new ArrayList<>();
    for (ObjectInfo info : manager.store().list(PREFIX)) {
      idOf(info.key()).filter(id -> !Ids.isHidden(id.snapshot())).ifPresent(ids::add);
    }
    ids.sort(Comparator.comparing(Ids.SnapshotId::toString));
    return ids;
  }

  /** The id of the snapshot with this name, whatever its volume. */
  Optional<Ids.SnapshotId> findByName(String name) throws IOException {
    for (ObjectInfo info : manager.store().list(PREFIX)) {
      Optional<Ids.SnapshotId> id = idOf(info.key());
      if (id.isPresent() && id.get().snapshot().equals(name)) {
        return id;
      }
    }
    return Optional.empty();
  }

  Optional<Csi.Snapshot> find(Ids.SnapshotId id) throws IOException {
    if (Ids.isHidden(id.snapshot())) {
      return Optional.empty();
    }
    for (SnapshotInfo info : manager.snapshots(id.volume())) {
      if (info.name().equals(id.snapshot())) {
        return Optional.of(toCsi(info));
      }
    }
    return Optional.empty();
  }

  /** The snapshots of the volumes named, sorted by id. */
  List<Csi.Snapshot> of(List<String> volumes) throws IOException {
    List<Csi.Snapshot> out = new ArrayList<>();
    for (String volume : new TreeSet<>(volumes)) {
      for (SnapshotInfo info : manager.snapshots(volume)) {
        if (!Ids.isHidden(info.name())) {
          out.add(toCsi(info));
        }
      }
    }
    out.sort(Comparator.comparing(Csi.Snapshot::getSnapshotId));
    return out;
  }

  void delete(Ids.SnapshotId id) throws IOException {
    if (find(id).isPresent()) {
      manager.deleteSnapshot(id.volume(), id.snapshot());
    }
  }

  static Csi.Snapshot toCsi(SnapshotInfo info) {
    Instant created = info.created();
    return Csi.Snapshot.newBuilder()
        .setSnapshotId(new Ids.SnapshotId(info.volume(), info.name()).toString())
        .setSourceVolumeId(info.volume())
        .setSizeBytes(info.size())
        .setCreationTime(Timestamp.newBuilder().setSeconds(created.getEpochSecond()).setNanos(created.getNano()))
        .setReadyToUse(true)
        .build();
  }

  private static Optional<Ids.SnapshotId> idOf(String key) {
    if (!key.startsWith(PREFIX) || !key.endsWith(".map")) {
      return Optional.empty();
    }
    String rest = key.substring(PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      return Optional.empty();
    }
    String volume = rest.substring(0, slash);
    String snapshot = StoreLayout.nameOf(key, ".map");
    return Ids.snapshot(volume + "@" + snapshot);
  }
}
