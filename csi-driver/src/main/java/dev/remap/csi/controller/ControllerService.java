package dev.remap.csi.controller;

import com.google.protobuf.Int64Value;
import dev.remap.csi.server.NameLocks;
import dev.remap.csi.server.Rpc;
import dev.remap.csi.spec.ControllerGrpc;
import dev.remap.csi.spec.Csi;
import dev.remap.engine.core.Geometry;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * CSI Controller: volumes and snapshots in the store. Every RPC goes validate → lock the name
 * (ABORTED if another call holds it) → look up by name or id → return the existing result when
 * there is one (idempotent) → change the store. Codes are chosen where an error starts; see
 * {@link Rpc} for what is mapped afterwards. The store itself is the only state: a restarted
 * controller knows everything it knew.
 */
@SuppressWarnings("try") // try-with-resources holds a name lock the body never names
public final class ControllerService extends ControllerGrpc.ControllerImplBase {

  private final VolumeCatalog volumes;
  private final SnapshotCatalog snapshots;
  private final NameLocks locks;
  private final String storeUri;
  private final Optional<Path> localRoot;
  private final ClaimReader claims;

  /**
   * @param storeUri the URI the driver was given (a StorageClass may repeat it in "store")
   * @param localRoot the folder of a file store (its free space is the capacity), empty for S3
   * @param localNode the node a file store lives on (its volumes' topology), empty for S3
   */
  public ControllerService(VolumeManager manager, NameLocks locks, String storeUri, Optional<Path> localRoot, Optional<String> localNode, ClaimReader claims) {
    this.claims = claims;
    this.volumes = new VolumeCatalog(manager, localNode);
    this.snapshots = new SnapshotCatalog(manager);
    this.locks = locks;
    this.storeUri = storeUri;
    this.localRoot = localRoot;
  }

  @Override
  public void controllerGetCapabilities(Csi.ControllerGetCapabilitiesRequest request,
      StreamObserver<Csi.ControllerGetCapabilitiesResponse> out) {
    Rpc.answer(out, () -> {
      Csi.ControllerGetCapabilitiesResponse.Builder response = Csi.ControllerGetCapabilitiesResponse.newBuilder();
      for (Csi.ControllerServiceCapability.RPC.Type type : List.of(
          Csi.ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
          Csi.ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
          Csi.ControllerServiceCapability.RPC.Type.GET_CAPACITY,
          Csi.ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
          Csi.ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS,
          Csi.ControllerServiceCapability.RPC.Type.CLONE_VOLUME,
          Csi.ControllerServiceCapability.RPC.Type.EXPAND_VOLUME,
          Csi.ControllerServiceCapability.RPC.Type.GET_VOLUME,
          Csi.ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER)) {
        response.addCapabilities(Csi.ControllerServiceCapability.newBuilder()
            .setRpc(Csi.ControllerServiceCapability.RPC.newBuilder().setType(type)));
      }
      return response.build();
    });
  }

  @Override
  public void createVolume(Csi.CreateVolumeRequest request, StreamObserver<Csi.CreateVolumeResponse> out) {
    Rpc.answer(out, () -> {
      String name = Rpc.required("name", request.getName());
      requireStoreName("name", name);
      Capabilities.require("volume_capabilities", request.getVolumeCapabilitiesList());
      VolumeParameters parameters = VolumeParameters.parse(withClaim(request.getParametersMap()));
      if (parameters.store() != null && !parameters.store().equals(storeUri)
          && !parameters.store().equals(volumes.manager().store().describe())) {
        throw Rpc.invalid("parameter store '" + parameters.store() + "' is not the store this driver serves ("
            + volumes.manager().store().describe() + "): run one driver per store");
      }
      volumes.checkAccessible(request.getAccessibilityRequirements());
      try (NameLocks.Held lock = locks.volume(name)) {
        VolumeMeta meta = new VolumeCreation(volumes, request, parameters).existingOrNew();
        return Csi.CreateVolumeResponse.newBuilder()
            .setVolume(volumes.toCsi(meta, parameters.nodeContext()))
            .build();
      }
    });
  }

  /** The class's parameters with the PVC's per-disk annotations over them, when a PVC is named. */
  private Map<String, String> withClaim(Map<String, String> parameters) {
    String name = parameters.get(ClaimParameters.PVC_NAME);
    String namespace = parameters.get(ClaimParameters.PVC_NAMESPACE);
    if (name == null || namespace == null) {
      return parameters;
    }
    return ClaimParameters.merge(parameters, claims.annotations(namespace, name), namespace + "/" + name);
  }

  @Override
  public void deleteVolume(Csi.DeleteVolumeRequest request, StreamObserver<Csi.DeleteVolumeResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      if (Ids.volume(id).isPresent()) {
        try (NameLocks.Held lock = locks.volume(id)) {
          if (volumes.find(id).isPresent()) {
            volumes.delete(id);
          }
        }
      }
      return Csi.DeleteVolumeResponse.getDefaultInstance();
    });
  }

  @Override
  public void validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest request,
      StreamObserver<Csi.ValidateVolumeCapabilitiesResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      Optional<String> unsupported = Capabilities.unsupported("volume_capabilities", request.getVolumeCapabilitiesList());
      volumes.require("volume_id", id);
      Csi.ValidateVolumeCapabilitiesResponse.Builder response = Csi.ValidateVolumeCapabilitiesResponse.newBuilder();
      if (unsupported.isPresent()) {
        return response.setMessage(unsupported.get()).build();
      }
      return response.setConfirmed(Csi.ValidateVolumeCapabilitiesResponse.Confirmed.newBuilder()
              .putAllVolumeContext(request.getVolumeContextMap())
              .addAllVolumeCapabilities(request.getVolumeCapabilitiesList())
              .putAllParameters(request.getParametersMap()))
          .build();
    });
  }

  @Override
  public void listVolumes(Csi.ListVolumesRequest request, StreamObserver<Csi.ListVolumesResponse> out) {
    Rpc.answer(out, () -> {
      Paging.Page<VolumeMeta> page = Paging.page(volumes.sorted(), VolumeMeta::name,
          request.getMaxEntries(), request.getStartingToken());
      Csi.ListVolumesResponse.Builder response = Csi.ListVolumesResponse.newBuilder().setNextToken(page.nextToken());
      for (VolumeMeta meta : page.entries()) {
        response.addEntries(Csi.ListVolumesResponse.Entry.newBuilder().setVolume(volumes.toCsi(meta, Map.of())));
      }
      return response.build();
    });
  }

  @Override
  public void controllerGetVolume(Csi.ControllerGetVolumeRequest request,
      StreamObserver<Csi.ControllerGetVolumeResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      VolumeMeta meta = volumes.require("volume_id", id);
      return Csi.ControllerGetVolumeResponse.newBuilder()
          .setVolume(volumes.toCsi(meta, Map.of()))
          .setStatus(Csi.ControllerGetVolumeResponse.VolumeStatus.getDefaultInstance())
          .build();
    });
  }

  @Override
  public void getCapacity(Csi.GetCapacityRequest request, StreamObserver<Csi.GetCapacityResponse> out) {
    Rpc.answer(out, () -> {
      if (request.getVolumeCapabilitiesCount() > 0) {
        Capabilities.require("volume_capabilities", request.getVolumeCapabilitiesList());
      }
      VolumeParameters parameters = VolumeParameters.parse(request.getParametersMap());
      // Volumes are thin: a file store can hold as much as its file system has free; an object
      // store has no limit this driver could know.
      long available = localRoot.isPresent() ? Files.getFileStore(localRoot.get()).getUsableSpace() : Long.MAX_VALUE;
      return Csi.GetCapacityResponse.newBuilder()
          .setAvailableCapacity(available)
          .setMaximumVolumeSize(Int64Value.of(Sizing.maxSize(parameters.chunkSizeOrDefault())))
          .setMinimumVolumeSize(Int64Value.of(parameters.blockSizeOrDefault()))
          .build();
    });
  }

  @Override
  public void controllerExpandVolume(Csi.ControllerExpandVolumeRequest request,
      StreamObserver<Csi.ControllerExpandVolumeResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      if (!request.hasCapacityRange()) {
        throw Rpc.invalid("capacity_range is required");
      }
      if (request.hasVolumeCapability()) {
        Capabilities.require("volume_capability", List.of(request.getVolumeCapability()));
      }
      try (NameLocks.Held lock = locks.volume(id)) {
        VolumeMeta meta = volumes.require("volume_id", id);
        Geometry g = meta.geometry();
        long size = Sizing.sizeFor("capacity_range", request.getCapacityRange(), g.blockSize(), g.chunkSize());
        if (size > g.size()) {
          meta = volumes.grow(id, size);
        }
        // The node must grow its kernel device (and the filesystem on it) to the new size.
        return Csi.ControllerExpandVolumeResponse.newBuilder()
            .setCapacityBytes(meta.geometry().size())
            .setNodeExpansionRequired(true)
            .build();
      }
    });
  }

  @Override
  public void createSnapshot(Csi.CreateSnapshotRequest request, StreamObserver<Csi.CreateSnapshotResponse> out) {
    Rpc.answer(out, () -> {
      String source = Rpc.required("source_volume_id", request.getSourceVolumeId());
      String name = Rpc.required("name", request.getName());
      requireStoreName("name", name);
      if (Ids.isHidden(name)) {
        throw Rpc.invalid("name: snapshot names starting with " + Ids.CLONE_PREFIX + " are reserved for clones");
      }
      try (NameLocks.Held lock = locks.volumeAndSnapshot(source, name)) {
        Optional<Ids.SnapshotId> existing = snapshots.findByName(name);
        if (existing.isPresent()) {
          if (!existing.get().volume().equals(source)) {
            throw Rpc.alreadyExists("snapshot " + name + " already exists for volume " + existing.get().volume()
                + ", not " + source);
          }
          return response(snapshots.find(existing.get()).orElseThrow());
        }
        volumes.require("source_volume_id", source);
        volumes.snapshot(source, name);
        Ids.SnapshotId id = new Ids.SnapshotId(source, name);
        return response(snapshots.find(id)
            .orElseThrow(() -> Rpc.unavailable("snapshot " + id + " was taken but is not listed yet; retry")));
      }
    });
  }

  private static Csi.CreateSnapshotResponse response(Csi.Snapshot snapshot) {
    return Csi.CreateSnapshotResponse.newBuilder().setSnapshot(snapshot).build();
  }

  @Override
  public void deleteSnapshot(Csi.DeleteSnapshotRequest request, StreamObserver<Csi.DeleteSnapshotResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("snapshot_id", request.getSnapshotId());
      Optional<Ids.SnapshotId> parsed = Ids.snapshot(id);
      if (parsed.isPresent()) {
        try (NameLocks.Held lock = locks.snapshot(parsed.get().snapshot())) {
          snapshots.delete(parsed.get());
        }
      }
      return Csi.DeleteSnapshotResponse.getDefaultInstance();
    });
  }

  @Override
  public void listSnapshots(Csi.ListSnapshotsRequest request, StreamObserver<Csi.ListSnapshotsResponse> out) {
    Rpc.answer(out, () -> {
      List<Csi.Snapshot> candidates;
      if (!request.getSnapshotId().isEmpty()) {
        Optional<Ids.SnapshotId> id = Ids.snapshot(request.getSnapshotId())
            .filter(s -> request.getSourceVolumeId().isEmpty() || s.volume().equals(request.getSourceVolumeId()));
        candidates = id.isPresent() ? snapshots.find(id.get()).map(List::of).orElse(List.of()) : List.of();
      } else if (!request.getSourceVolumeId().isEmpty()) {
        candidates = Ids.volume(request.getSourceVolumeId()).isPresent()
            ? snapshots.of(List.of(request.getSourceVolumeId())) : List.of();
      } else {
        candidates = snapshots.of(snapshots.ids().stream().map(Ids.SnapshotId::volume).toList());
      }
      Paging.Page<Csi.Snapshot> page = Paging.page(candidates, Csi.Snapshot::getSnapshotId,
          request.getMaxEntries(), request.getStartingToken());
      Csi.ListSnapshotsResponse.Builder response = Csi.ListSnapshotsResponse.newBuilder().setNextToken(page.nextToken());
      for (Csi.Snapshot snapshot : page.entries()) {
        response.addEntries(Csi.ListSnapshotsResponse.Entry.newBuilder().setSnapshot(snapshot));
      }
      return response.build();
    });
  }

  static void requireStoreName(String field, String name) {
    try {
      StoreLayout.requireName("volume", name);
    } catch (IllegalArgumentException e) {
      throw Rpc.invalid(field + " '" + name + "' cannot name a volume or snapshot in the store: use letters, "
          + "digits, '.', '_' and '-', starting with a letter or digit, at most 253 characters");
    }
  }
}
