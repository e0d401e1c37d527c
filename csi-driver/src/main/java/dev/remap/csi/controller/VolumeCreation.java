package dev.remap.csi.controller;

import dev.remap.csi.server.Rpc;
import dev.remap.csi.spec.Csi;
import dev.remap.engine.core.Geometry;
import dev.remap.engine.core.Sizes;
import dev.remap.engine.volume.VolumeManager.SnapshotInfo;
import dev.remap.engine.volume.VolumeMeta;
import java.io.IOException;
import java.util.Optional;

/**
 * One CreateVolume, after validation and under the name lock: return the volume the name already
 * has when it is compatible with the request (same source, a size in the range, the same
 * geometry), ALREADY_EXISTS when it is not, else make it: empty, from a snapshot or from a volume.
 *
 * <p>A clone keeps its source's geometry (block and chunk size: the mapping is shared), so the
 * blockSize and chunkSize parameters do not apply to clones. A clone is made at its source's size
 * and then grown when the capacity range asks for more; a retry after a crash between the two
 * finds the clone and finishes growing it.
 */
final class VolumeCreation {

  private static final String SNAPSHOT_FIELD = "volume_content_source.snapshot.snapshot_id";
  private static final String VOLUME_FIELD = "volume_content_source.volume.volume_id";

  private final VolumeCatalog volumes;
  private final Csi.CreateVolumeRequest request;
  private final VolumeParameters parameters;

  VolumeCreation(VolumeCatalog volumes, Csi.CreateVolumeRequest request, VolumeParameters parameters) {
    this.volumes = volumes;
    this.request = request;
    this.parameters = parameters;
  }

  VolumeMeta existingOrNew() throws IOException {
    Optional<VolumeMeta> existing = volumes.find(request.getName());
    if (existing.isPresent()) {
      VolumeMeta meta = compatible(existing.get());
      volumes.forgetCloneSnapshot(meta);
      return meta;
    }
    Csi.VolumeContentSource source = request.getVolumeContentSource();
    return switch (source.getTypeCase()) {
      case SNAPSHOT -> grown(volumes.cloneSnapshot(snapshotSource(), request.getName()));
      case VOLUME -> grown(volumes.cloneVolume(volumeSource(), request.getName()));
      case TYPE_NOT_SET -> {
        int blockSize = parameters.blockSizeOrDefault();
        int chunkSize = parameters.chunkSizeOrDefault();
        yield volumes.create(request.getName(), Sizing.sizeFor("capacity_range", request.getCapacityRange(),
            blockSize, chunkSize), blockSize, chunkSize);
      }
    };
  }

  private Ids.SnapshotId snapshotSource() throws IOException {
    String snapshotId = Rpc.required(SNAPSHOT_FIELD, request.getVolumeContentSource().getSnapshot().getSnapshotId());
    Ids.SnapshotId id = Ids.snapshot(snapshotId)
        .filter(s -> !Ids.isHidden(s.snapshot()))
        .orElseThrow(() -> Rpc.notFound(SNAPSHOT_FIELD + ": snapshot " + snapshotId + " does not exist"));
    SnapshotInfo info = volumes.manager().snapshots(id.volume()).stream()
        .filter(s -> s.name().equals(id.snapshot())).findFirst()
        .orElseThrow(() -> Rpc.notFound(SNAPSHOT_FIELD + ": snapshot " + snapshotId + " does not exist"));
    requireRangeFits(info.size());
    return id;
  }

  private String volumeSource() throws IOException {
    String volumeId = Rpc.required(VOLUME_FIELD, request.getVolumeContentSource().getVolume().getVolumeId());
    VolumeMeta source = volumes.require(VOLUME_FIELD, volumeId);
    requireRangeFits(source.geometry().size());
    return source.name();
  }

  /** A clone cannot be smaller than its source: a limit below the source's size is OUT_OF_RANGE. */
  private void requireRangeFits(long sourceSize) {
    Csi.CapacityRange range = request.getCapacityRange();
    Sizing.check("capacity_range", range.getRequiredBytes(), range.getLimitBytes());
    if (range.getLimitBytes() != 0 && range.getLimitBytes() < sourceSize) {
      throw Rpc.outOfRange("capacity_range: limit_bytes " + range.getLimitBytes() + " is smaller than the source's "
          + sourceSize + " bytes; a clone cannot be smaller than its source");
    }
  }

  /** The clone grown to the requested size when that is larger than its source's. */
  private VolumeMeta grown(VolumeMeta clone) throws IOException {
    Geometry g = clone.geometry();
    if (request.getCapacityRange().getRequiredBytes() <= g.size()) {
      return clone;
    }
    long size = Sizing.sizeFor("capacity_range", request.getCapacityRange(), g.blockSize(), g.chunkSize());
    return volumes.grow(clone.name(), size);
  }

  private VolumeMeta compatible(VolumeMeta meta) throws IOException {
    String name = meta.name();
    Optional<Csi.VolumeContentSource> had = VolumeCatalog.contentSource(meta);
    Csi.VolumeContentSource asked = request.getVolumeContentSource();
    boolean sameSource = switch (asked.getTypeCase()) {
      case TYPE_NOT_SET -> had.isEmpty();
      case SNAPSHOT -> had.isPresent() && had.get().hasSnapshot()
          && had.get().getSnapshot().getSnapshotId().equals(asked.getSnapshot().getSnapshotId());
      case VOLUME -> had.isPresent() && had.get().hasVolume()
          && had.get().getVolume().getVolumeId().equals(asked.getVolume().getVolumeId());
    };
    if (!sameSource) {
      throw Rpc.alreadyExists("volume " + name + " already exists with a different content source ("
          + had.map(s -> s.getTypeCase() == Csi.VolumeContentSource.TypeCase.SNAPSHOT
              ? "snapshot " + s.getSnapshot().getSnapshotId() : "volume " + s.getVolume().getVolumeId())
              .orElse("empty") + ")");
    }
    if (had.isPresent() && meta.geometry().size() < request.getCapacityRange().getRequiredBytes()) {
      meta = grown(meta);
    }
    if (!Sizing.satisfies(request.getCapacityRange(), meta.geometry().size())) {
      throw Rpc.alreadyExists("volume " + name + " already exists with " + meta.geometry().size()
          + " bytes, outside the requested capacity_range");
    }
    if (had.isEmpty()) {
      requireSameGeometry(meta.geometry(), "the existing volume " + name);
    }
    return meta;
  }

  private void requireSameGeometry(Geometry existing, String what) {
    if (parameters.blockSize().isPresent() && parameters.blockSize().getAsInt() != existing.blockSize()) {
      throw Rpc.alreadyExists("parameter blockSize " + parameters.blockSize().getAsInt() + " differs from "
          + what + "'s " + existing.blockSize());
    }
    if (parameters.chunkSize().isPresent() && parameters.chunkSize().getAsInt() != existing.chunkSize()) {
      throw Rpc.alreadyExists("parameter chunkSize " + Sizes.format(parameters.chunkSize().getAsInt())
          + " differs from " + what + "'s " + Sizes.format(existing.chunkSize()));
    }
  }
}
