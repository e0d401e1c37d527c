package dev.remap.operator.transfer;

import dev.remap.api.disk.ExportTarget;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.SnapshotTransfer;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.operator.disk.VolumeSnapshotModel;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Carries out spec.export ({@link ExportPlan} decides when): finds the Remap snapshot behind the
 * disk's VolumeSnapshot (its content's snapshot handle, {@code VOLUME@SNAPSHOT}), opens the
 * target store with the Secret's credentials, and copies the snapshot there as a self-contained
 * export (SnapshotTransfer: the objects it references, then its manifest). The data passes
 * through the operator; exports are rare and one at a time per disk.
 */
public final class SnapshotExporter {

  private final KubernetesClient client;
  private final VolumeManager volumes;

  public SnapshotExporter(KubernetesClient client, VolumeManager volumes) {
    this.client = client;
    this.volumes = volumes;
  }

  /** The START pass: refuses a store that holds an export already (it is not this disk's). */
  public ExportStatus start(VirtualDisk disk, ExportStatus starting) {
    ExportTarget spec = disk.getSpec().export;
    try (ObjectStore target = open(disk, spec)) {
      if (target.stat(SnapshotTransfer.MANIFEST).isPresent()) {
        return ExportPlan.status(spec, ExportPlan.FAILED, spec.storeUri + " holds an export already: export to an "
            + "empty prefix (an export is never overwritten)");
      }
      return starting;
    } catch (IOException | RuntimeException e) {
      return ExportPlan.status(spec, ExportPlan.FAILED, "cannot reach " + spec.storeUri + ": " + e.getMessage());
    }
  }

  /** The RUN pass: writes the export (again, after a restart) and says how it went. */
  public ExportStatus run(VirtualDisk disk, List<SnapshotStatus> snapshots) {
    ExportTarget spec = disk.getSpec().export;
    try (ObjectStore target = open(disk, spec)) {
      String[] handle = snapshotHandle(disk, snapshots, spec.snapshot).split("@", 2);
      long bytes;
      String message;
      if (target.stat(SnapshotTransfer.MANIFEST).isPresent()) {
        // START found the prefix empty, so this is the export this disk began before a restart.
        bytes = 0;
        message = "exported before the operator restarted";
      } else {
        bytes = SnapshotTransfer.export(volumes, handle[0], handle[1], target);
        message = "snapshot " + spec.snapshot + " (" + handle[0] + "@" + handle[1] + ") exported to " + spec.storeUri;
      }
      ExportStatus done = ExportPlan.status(spec, ExportPlan.EXPORTED, message);
      done.bytes = bytes;
      done.completionTime = Instant.now().toString();
      return done;
    } catch (IOException | RuntimeException e) {
      return ExportPlan.status(spec, ExportPlan.FAILED, "exporting snapshot " + spec.snapshot + " to "
          + spec.storeUri + " failed (retried): " + e.getMessage());
    }
  }

  /** VOLUME@SNAPSHOT, from the VolumeSnapshot's bound content. */
  @SuppressWarnings("unchecked")
  private String snapshotHandle(VirtualDisk disk, List<SnapshotStatus> snapshots, String name) {
    String ns = disk.getMetadata().getNamespace();
    String volumeSnapshot = snapshots.stream().filter(s -> name.equals(s.name)).findFirst()
        .map(s -> s.volumeSnapshotName).orElseThrow(() -> new IllegalStateException("snapshot " + name + " is unknown"));
    GenericKubernetesResource snapshot = client.genericKubernetesResources(VolumeSnapshotModel.SNAPSHOTS).inNamespace(ns)
        .withName(volumeSnapshot).get();
    Map<String, Object> status = snapshot == null ? Map.of() : (Map<String, Object>) snapshot.getAdditionalProperties()
        .getOrDefault("status", Map.of());
    Object contentName = status.get("boundVolumeSnapshotContentName");
    GenericKubernetesResource content = contentName == null ? null
        : client.genericKubernetesResources(VolumeSnapshotModel.CONTENTS).withName(contentName.toString()).get();
    Map<String, Object> contentStatus = content == null ? Map.of() : (Map<String, Object>) content
        .getAdditionalProperties().getOrDefault("status", Map.of());
    Object handle = contentStatus.get("snapshotHandle");
    if (handle == null || !handle.toString().contains("@")) {
      throw new IllegalStateException("VolumeSnapshot " + volumeSnapshot + " has no Remap snapshot handle yet");
    }
    return handle.toString();
  }

  private ObjectStore open(VirtualDisk disk, ExportTarget spec) throws IOException {
    return UserStores.open(client, disk.getMetadata().getNamespace(), spec.storeUri, spec.endpoint, spec.secretRef,
        "spec.export");
  }
}
