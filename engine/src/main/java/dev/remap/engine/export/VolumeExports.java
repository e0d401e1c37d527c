package dev.remap.engine.export;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.metrics.VolumeMeters;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The volumes of a store as exports: each volume by its name (read-write, growable) and each
 * snapshot as {@code VOLUME@SNAPSHOT} (read-only). Looked up at every call, so that volumes
 * created, cloned or deleted while serving appear and disappear without a restart.
 */
public final class VolumeExports implements ExportSource {

  private final VolumeManager volumes;

  public VolumeExports(VolumeManager volumes) {
    this.volumes = volumes;
  }

  @Override
  public List<String> names() throws IOException {
    List<String> names = new ArrayList<>();
    for (VolumeMeta meta : volumes.list()) {
      names.add(meta.name());
      for (ObjectInfo snapshot : volumes.store().list(StoreLayout.snapshotPrefix(meta.name()))) {
        names.add(meta.name() + "@" + StoreLayout.nameOf(snapshot.key(), ".map"));
      }
    }
    return names;
  }

  @Override
  public Optional<ExportDescription> describe(String name) throws IOException {
    Snapshot snapshot = Snapshot.parse(name);
    if (snapshot == null) {
      if (!validName(name)) {
        return Optional.empty();
      }
      return volumes.find(name).map(meta -> new ExportDescription(name, meta.geometry().size(),
          meta.geometry().blockSize(), Volume.capabilitiesOf(meta.geometry())));
    }
    if (!snapshot.exists(volumes)) {
      return Optional.empty();
    }
    try (BlockDevice device = volumes.openSnapshot(snapshot.volume(), snapshot.name())) {
      return Optional.of(new ExportDescription(name, device.size(), device.blockSize(), device.capabilities()));
    }
  }

  @Override
  public Optional<ExportBase> open(String name, StackSpec stack) throws IOException {
    Snapshot snapshot = Snapshot.parse(name);
    if (snapshot != null) {
      if (!snapshot.exists(volumes)) {
        return Optional.empty();
      }
      return Optional.of(ExportBase.plain(volumes.openSnapshot(snapshot.volume(), snapshot.name())));
    }
    if (!validName(name) || volumes.find(name).isEmpty()) {
      return Optional.empty();
    }
    Volume volume = volumes.open(name, stack.diskTier());
    // Cached pages are good only while this process owns the volume; on taking it back from
    // another node they are dropped before anything is served.
    return Optional.of(new ExportBase(volume, volume::isOwner, volume::onAcquired, volume::countUsage,
        () -> VolumeMeters.BaseFigures.of(volume.stats())));
  }

  private static boolean validName(String name) {
    try {
      StoreLayout.requireName("volume", name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** VOLUME@SNAPSHOT, both parts valid names. */
  private record Snapshot(String volume, String name) {
    static Snapshot parse(String export) {
      int at = export.indexOf('@');
      if (at < 0) {
        return null;
      }
      return new Snapshot(export.substring(0, at), export.substring(at + 1));
    }

    boolean exists(VolumeManager volumes) throws IOException {
      if (!validName(volume) || !validName(name)) {
        return false;
      }
      return volumes.store().stat(StoreLayout.snapshot(volume, name)).isPresent();
    }
  }
}
