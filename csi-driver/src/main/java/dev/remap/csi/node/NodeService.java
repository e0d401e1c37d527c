package dev.remap.csi.node;

import dev.remap.csi.DriverConfig;
import dev.remap.csi.controller.Capabilities;
import dev.remap.csi.controller.VolumeParameters;
import dev.remap.csi.server.NameLocks;
import dev.remap.csi.server.Rpc;
import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import dev.remap.csi.spec.NodeGrpc;
import dev.remap.engine.swap.SwapSpec;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.VolumeManager;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * CSI Node: stage (attach the served volume as a kernel block device, make and mount its
 * filesystem), publish (bind mounts), their undoing, stats and growth. Every RPC goes validate →
 * lock the volume name (ABORTED if another call holds it) → look up the staged record → return at
 * once when the host already is as asked (idempotent) → change the host → persist the record.
 * The host work itself is in {@link NodeHost}; a swap volume's (a VmMemorySwap's disk, made at
 * stage, never in the store) in {@link SwapVolumes}, told apart by its staged record.
 */
@SuppressWarnings("try") // try-with-resources holds a name lock the body never names
public final class NodeService extends NodeGrpc.NodeImplBase {

  private final String nodeId;
  private final VolumeManager volumes;
  private final NameLocks locks;
  private final NodeHost host;
  private final SwapVolumes swaps;
  private final NodeState state;

  public NodeService(String nodeId, VolumeManager volumes, NameLocks locks, NodeHost host, SwapVolumes swaps,
      NodeState state) {
    this.nodeId = nodeId;
    this.volumes = volumes;
    this.locks = locks;
    this.host = host;
    this.swaps = swaps;
    this.state = state;
  }

  /** How many volumes are staged on this node now (for metrics). */
  public int stagedVolumes() {
    return state.all().size();
  }

  @Override
  public void nodeGetInfo(Csi.NodeGetInfoRequest request, StreamObserver<Csi.NodeGetInfoResponse> out) {
    Rpc.answer(out, () -> Csi.NodeGetInfoResponse.newBuilder()
        .setNodeId(nodeId)
        .setAccessibleTopology(Csi.Topology.newBuilder().putSegments(DriverConfig.TOPOLOGY_NODE_KEY, nodeId))
        .build());
  }

  @Override
  public void nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest request,
      StreamObserver<Csi.NodeGetCapabilitiesResponse> out) {
    Rpc.answer(out, () -> {
      Csi.NodeGetCapabilitiesResponse.Builder response = Csi.NodeGetCapabilitiesResponse.newBuilder();
      for (Csi.NodeServiceCapability.RPC.Type type : List.of(
          Csi.NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME,
          Csi.NodeServiceCapability.RPC.Type.GET_VOLUME_STATS,
          Csi.NodeServiceCapability.RPC.Type.EXPAND_VOLUME,
          Csi.NodeServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER)) {
        response.addCapabilities(Csi.NodeServiceCapability.newBuilder()
            .setRpc(Csi.NodeServiceCapability.RPC.newBuilder().setType(type)));
      }
      return response.build();
    });
  }

  @Override
  public void nodeStageVolume(Csi.NodeStageVolumeRequest request, StreamObserver<Csi.NodeStageVolumeResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      Path staging = absolute("staging_target_path", request.getStagingTargetPath());
      Csi.VolumeCapability capability = capability(request.hasVolumeCapability(), request.getVolumeCapability());
      Optional<SwapSpec> swap = SwapAttributes.fromContext(id, request.getVolumeContextMap());
      try (NameLocks.Held lock = locks.volume(id)) {
        Optional<StagedVolume> staged = state.get(id);
        if (staged.isPresent()) {
          StagedVolume s = staged.get();
          if (!s.stagingPath().equals(staging) || s.block() != capability.hasBlock()) {
            throw Rpc.alreadyExists("volume " + id + " is already staged at " + s.stagingPath() + " as "
                + (s.block() ? "a block device" : "a " + s.fsType() + " filesystem"));
          }
          if (!s.swap().equals(swap)) {
            throw Rpc.alreadyExists("volume " + id + " is already staged "
                + s.swap().map(d -> "as a swap disk with other attributes (" + describe(d) + ")")
                    .orElse("as a volume of the store, not a swap disk"));
          }
          return Csi.NodeStageVolumeResponse.getDefaultInstance();
        }
        if (swap.isPresent()) {
          state.put(swaps.stage(id, staging, capability, swap.get()));
          return Csi.NodeStageVolumeResponse.getDefaultInstance();
        }
        requireExists(id);
        state.put(host.stage(id, staging, capability, readOnly(capability),
            CacheSizes.fromContext(request.getVolumeContextMap())));
        return Csi.NodeStageVolumeResponse.getDefaultInstance();
      }
    });
  }


  @Override
  public void nodeUnstageVolume(Csi.NodeUnstageVolumeRequest request,
      StreamObserver<Csi.NodeUnstageVolumeResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      Path staging = absolute("staging_target_path", request.getStagingTargetPath());
      try (NameLocks.Held lock = locks.volume(id)) {
        Optional<StagedVolume> staged = state.get(id).filter(s -> s.stagingPath().equals(staging));
        if (staged.isPresent()) {
          if (!staged.get().targets().isEmpty()) {
            throw Rpc.failedPrecondition("volume " + id + " is still published at " + staged.get().targets().keySet()
                + ": unpublish it first");
          }
          if (staged.get().swap().isPresent()) {
            swaps.unstage(staged.get());
          } else {
            host.unstage(staged.get());
          }
          state.remove(id);
        }
        return Csi.NodeUnstageVolumeResponse.getDefaultInstance();
      }
    });
  }

  @Override
  public void nodePublishVolume(Csi.NodePublishVolumeRequest request,
      StreamObserver<Csi.NodePublishVolumeResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      Path target = absolute("target_path", request.getTargetPath());
      Csi.VolumeCapability capability = capability(request.hasVolumeCapability(), request.getVolumeCapability());
      Path staging = absolute("staging_target_path", request.getStagingTargetPath());
      try (NameLocks.Held lock = locks.volume(id)) {
        Optional<StagedVolume> found = state.get(id);
        if (found.isEmpty()) {
          if (SwapAttributes.fromContext(id, request.getVolumeContextMap()).isEmpty()) {
            requireExists(id);
          }
          throw Rpc.failedPrecondition("volume " + id + " is not staged on node " + nodeId + ": stage it first");
        }
        StagedVolume staged = found.get();
        if (!staged.stagingPath().equals(staging)) {
          throw Rpc.failedPrecondition("staging_target_path: volume " + id + " is staged at " + staged.stagingPath()
              + ", not " + staging);
        }
        if (staged.block() != capability.hasBlock()) {
          throw Rpc.invalid("volume_capability: volume " + id + " is staged as "
              + (staged.block() ? "a block device" : "a filesystem") + " and cannot be published as the other");
        }
        boolean readOnly = request.getReadonly() || staged.readOnly();
        Boolean existing = staged.targets().get(target);
        if (existing != null) {
          if (existing != readOnly) {
            throw Rpc.alreadyExists("volume " + id + " is already published at " + target
                + (existing ? " read-only" : " read-write"));
          }
          return Csi.NodePublishVolumeResponse.getDefaultInstance();
        }
        if (capability.getAccessMode().getMode() == Mode.SINGLE_NODE_SINGLE_WRITER && !staged.targets().isEmpty()) {
          throw Rpc.failedPrecondition("volume " + id + " has access mode SINGLE_NODE_SINGLE_WRITER and is already "
              + "published at " + staged.targets().keySet());
        }
        host.publish(staged, target, readOnly);
        state.put(staged.withTarget(target, readOnly));
        return Csi.NodePublishVolumeResponse.getDefaultInstance();
      }
    });
  }

  @Override
  public void nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest request,
      StreamObserver<Csi.NodeUnpublishVolumeResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      Path target = absolute("target_path", request.getTargetPath());
      try (NameLocks.Held lock = locks.volume(id)) {
        host.unpublish(target);
        Optional<StagedVolume> staged = state.get(id);
        if (staged.isPresent() && staged.get().targets().containsKey(target)) {
          state.put(staged.get().withoutTarget(target));
        }
        return Csi.NodeUnpublishVolumeResponse.getDefaultInstance();
      }
    });
  }

  @Override
  public void nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest request,
      StreamObserver<Csi.NodeGetVolumeStatsResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      String path = Rpc.required("volume_path", request.getVolumePath());
      StagedVolume staged = stagedAt(id, path);
      return Csi.NodeGetVolumeStatsResponse.newBuilder().addAllUsage(host.usage(staged, Path.of(path))).build();
    });
  }

  @Override
  public void nodeExpandVolume(Csi.NodeExpandVolumeRequest request,
      StreamObserver<Csi.NodeExpandVolumeResponse> out) {
    Rpc.answer(out, () -> {
      String id = Rpc.required("volume_id", request.getVolumeId());
      String path = Rpc.required("volume_path", request.getVolumePath());
      if (request.hasVolumeCapability()) {
        capability(true, request.getVolumeCapability());
      }
      try (NameLocks.Held lock = locks.volume(id)) {
        StagedVolume staged = stagedAt(id, path);
        if (staged.swap().isPresent()) {
          throw Rpc.failedPrecondition("volume " + id + " is a swap disk (a VmMemorySwap's): its size is fixed when"
              + " it is staged and it cannot grow; change the VmMemorySwap's spec.size and restart the VM instead");
        }
        long size = host.grow(staged, request.getCapacityRange().getRequiredBytes());
        return Csi.NodeExpandVolumeResponse.newBuilder().setCapacityBytes(size).build();
      }
    });
  }

  /** The staged volume whose staging path or one of whose targets is path; NOT_FOUND otherwise. */
  private StagedVolume stagedAt(String id, String path) {
    StagedVolume staged = state.get(id).orElseThrow(() ->
        Rpc.notFound("volume " + id + " is not staged on node " + nodeId));
    Path p = Path.of(path).toAbsolutePath().normalize();
    if (!staged.stagingPath().equals(p) && !staged.targets().containsKey(p)) {
      throw Rpc.notFound("volume " + id + " is neither staged nor published at " + path);
    }
    return staged;
  }

  private static String describe(SwapSpec spec) {
    return SwapAttributes.SIZE + "=" + spec.size() + ", " + SwapAttributes.MEMORY_LIMIT + "=" + spec.memoryLimit()
        + spec.spill().map(s -> ", " + SwapAttributes.SPILL_SIZE + "=" + s.size() + ", "
            + SwapAttributes.SPILL_LOCATION + "=" + s.directory()).orElse("")
        + ", " + SwapAttributes.DISCARD + "=" + spec.discard()
        + spec.label().map(l -> ", " + SwapAttributes.LABEL + "=" + l).orElse("");
  }

  private void requireExists(String id) throws IOException {
    boolean valid;
    try {
      StoreLayout.requireName("volume", id);
      valid = true;
    } catch (IllegalArgumentException e) {
      valid = false;
    }
    if (!valid || volumes.find(id).isEmpty()) {
      throw Rpc.notFound("volume " + id + " does not exist in " + volumes.store().describe());
    }
  }

  private static Csi.VolumeCapability capability(boolean present, Csi.VolumeCapability capability) {
    if (!present) {
      throw Rpc.invalid("volume_capability is required");
    }
    Capabilities.require("volume_capability", List.of(capability));
    return capability;
  }

  private static boolean readOnly(Csi.VolumeCapability capability) {
    Mode mode = capability.getAccessMode().getMode();
    return mode == Mode.SINGLE_NODE_READER_ONLY || mode == Mode.MULTI_NODE_READER_ONLY;
  }

  private static Path absolute(String field, String path) {
    Rpc.required(field, path);
    Path p = Path.of(path);
    if (!p.isAbsolute()) {
      throw Rpc.invalid(field + " '" + path + "' is not an absolute path");
    }
    return p.normalize();
  }
}
