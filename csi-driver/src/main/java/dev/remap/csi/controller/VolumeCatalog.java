package dev.remap.csi.controller;

import dev.remap.csi.DriverConfig;
import dev.remap.csi.server.Rpc;
import dev.remap.csi.spec.Csi;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import io.grpc.Status;
import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The controller's view of the volumes in the store: lookups, the CSI form of a volume, and the
 * changes (create, clone, grow, delete). Callers hold the volume's name lock; nothing here locks.
 *
 * <p>Volumes of a file store live on the node whose disk holds the folder: they carry that node's
 * topology. Volumes of an S3 store are reachable from every node and carry none.
 */
final class VolumeCatalog {

  private final VolumeManager manager;
  private final Optional<Csi.Topology> topology;

  VolumeCatalog(VolumeManager manager, Optional<String> localNode) {
    this.manager = manager;
    this.topology = localNode.map(node -> Csi.Topology.newBuilder()
        .putSegments(DriverConfig.TOPOLOGY_NODE_KEY, node).build());
  }

  VolumeManager manager() {
    return manager;
  }

  Optional<VolumeMeta> find(String name) throws IOException {
    return manager.find(name);
  }

  VolumeMeta require(String field, String id) throws IOException {
    Optional<VolumeMeta> meta = Ids.volume(id).isPresent() ? find(id) : Optional.empty();
    return meta.orElseThrow(() -> Rpc.notFound(field + ": volume " + id + " does not exist"));
  }

  List<VolumeMeta> sorted() throws IOException {
    return manager.list().stream().sorted(Comparator.comparing(VolumeMeta::name)).toList();
  }

  /** Refuses requirements that exclude the node of a node-local store. */
  void checkAccessible(Csi.TopologyRequirement requirement) {
    if (topology.isEmpty()) {
      return;
    }
    String node = topology.get().getSegmentsOrThrow(DriverConfig.TOPOLOGY_NODE_KEY);
    List<Csi.Topology> named = Stream.concat(
            requirement.getRequisiteList().stream(), requirement.getPreferredList().stream())
        .filter(t -> t.containsSegments(DriverConfig.TOPOLOGY_NODE_KEY))
        .toList();
    if (!named.isEmpty() && named.stream().noneMatch(t -> node.equals(t.getSegmentsOrThrow(DriverConfig.TOPOLOGY_NODE_KEY)))) {
      throw Status.RESOURCE_EXHAUSTED.withDescription("accessibility_requirements: volumes of "
          + manager.store().describe() + " live on node " + node + ", which the requirements exclude")
          .asRuntimeException();
    }
  }

  Csi.Volume toCsi(VolumeMeta meta, Map<String, String> context) {
    Csi.Volume.Builder volume = Csi.Volume.newBuilder()
        .setVolumeId(meta.name())
        .setCapacityBytes(meta.geometry().size())
        .putAllVolumeContext(context);
    contentSource(meta).ifPresent(volume::setContentSource);
    topology.ifPresent(volume::addAccessibleTopology);
    return volume.build();
  }

  /** What a volume was made from, as CSI says it: a snapshot, or a volume (through a hidden snapshot). */
  static Optional<Csi.VolumeContentSource> contentSource(VolumeMeta meta) {
    if (meta.origin() == null) {
      return Optional.empty();
    }
    return Ids.snapshot(meta.origin()).map(id -> Ids.isHidden(id.snapshot())
        ? Csi.VolumeContentSource.newBuilder().setVolume(
            Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId(id.volume())).build()
        : Csi.VolumeContentSource.newBuilder().setSnapshot(
            Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(id.toString())).build());
  }

  VolumeMeta create(String name, long size, int blockSize, int chunkSize) throws IOException {
    return manager.create(name, size, blockSize, chunkSize);
  }

  /** A copy-on-write clone of a snapshot: it keeps the snapshot's geometry and size. */
  VolumeMeta cloneSnapshot(Ids.SnapshotId source, String name) throws IOException {
    return manager.clone(source.volume(), source.snapshot(), name);
  }

  /**
   * A copy-on-write clone of a volume: a hidden snapshot of the source (see {@link Ids}), the clone
   * of it, then the hidden snapshot is removed. Each step is redone or skipped on a retry.
   */
  VolumeMeta cloneVolume(String source, String name) throws IOException {
    String hidden = Ids.cloneSnapshot(name);
    boolean taken = manager.snapshots(source).stream().anyMatch(s -> s.name().equals(hidden));
    if (!taken) {
      snapshot(source, hidden);
    }
    VolumeMeta clone = cloneSnapshot(new Ids.SnapshotId(source, hidden), name);
    manager.deleteSnapshot(source, hidden);
    return clone;
  }

  /** Removes the hidden snapshot a clone's earlier attempt may have left behind. */
  void forgetCloneSnapshot(VolumeMeta clone) throws IOException {
    Optional<Ids.SnapshotId> origin = clone.origin() == null ? Optional.empty() : Ids.snapshot(clone.origin());
    if (origin.isPresent() && Ids.isHidden(origin.get().snapshot())
        && manager.find(origin.get().volume()).isPresent()
        && manager.snapshots(origin.get().volume()).stream().anyMatch(s -> s.name().equals(origin.get().snapshot()))) {
      manager.deleteSnapshot(origin.get().volume(), origin.get().snapshot());
    }
  }

  /** Snapshots a volume (through the instance this process serves, if it serves it: it holds the lock). */
  VolumeManager.SnapshotInfo snapshot(String volume, String snapshot) throws IOException {
    return manager.snapshot(volume, snapshot);
  }

  /** Grows a volume (through the instance this process serves, if it serves it). */
  VolumeMeta grow(String volume, long size) throws IOException {
    return manager.resize(volume, size);
  }

  void delete(String volume) throws IOException {
    if (manager.served(volume).isPresent()) {
      throw Rpc.failedPrecondition("volume " + volume + " is staged on this node: unstage it before deleting it");
    }
    manager.delete(volume);
  }
}
