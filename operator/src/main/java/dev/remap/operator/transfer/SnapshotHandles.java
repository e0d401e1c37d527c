package dev.remap.operator.transfer;

import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import dev.remap.operator.disk.VolumeSnapshotModel;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;

/** The Remap snapshot behind a disk's VolumeSnapshot: its bound content's snapshotHandle, VOLUME@SNAPSHOT. */
final class SnapshotHandles {

  private SnapshotHandles() {}

  @SuppressWarnings("unchecked")
  static String of(KubernetesClient client, VirtualDisk disk, List<SnapshotStatus> snapshots) {
    String name = disk.getSpec().export.snapshot;
    String ns = disk.getMetadata().getNamespace();
    String volumeSnapshot = snapshots.stream().filter(s -> name.equals(s.name)).findFirst()
        .map(s -> s.volumeSnapshotName)
        .orElseThrow(() -> new IllegalStateException("spec.export.snapshot " + name + " is not one of spec.snapshots"));
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
}
