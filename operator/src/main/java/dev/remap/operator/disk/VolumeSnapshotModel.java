package dev.remap.operator.disk;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import dev.remap.api.disk.SnapshotRequest;
import dev.remap.api.disk.VirtualDisk;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns spec.snapshots into CSI VolumeSnapshots (snapshot.storage.k8s.io/v1) of the disk's PVC.
 * Generic resources, because the snapshot API is a CRD the external-snapshotter installs. Pure.
 */
public final class VolumeSnapshotModel {

  public static final String API_VERSION = "snapshot.storage.k8s.io/v1";
  public static final String KIND = "VolumeSnapshot";

  /** VolumeSnapshots and their contents, for the generic client (the snapshot API is a CRD that may be missing). */
  public static final ResourceDefinitionContext SNAPSHOTS = new ResourceDefinitionContext.Builder()
      .withGroup("snapshot.storage.k8s.io").withVersion("v1").withKind(KIND).withPlural("volumesnapshots")
      .withNamespaced(true).build();
  public static final ResourceDefinitionContext CONTENTS = new ResourceDefinitionContext.Builder()
      .withGroup("snapshot.storage.k8s.io").withVersion("v1").withKind("VolumeSnapshotContent")
      .withPlural("volumesnapshotcontents").withNamespaced(false).build();

  private VolumeSnapshotModel() {}

  public static List<GenericKubernetesResource> desired(VirtualDisk disk) {
    return disk.getSpec().snapshots == null ? List.of()
        : disk.getSpec().snapshots.stream().map(s -> desired(disk, s)).toList();
  }

  static GenericKubernetesResource desired(VirtualDisk disk, SnapshotRequest request) {
    Map<String, Object> spec = new LinkedHashMap<>();
    if (request.volumeSnapshotClassName != null) {
      spec.put("volumeSnapshotClassName", request.volumeSnapshotClassName);
    }
    spec.put("source", Map.of("persistentVolumeClaimName", DiskNames.pvc(disk)));
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(API_VERSION).withKind(KIND)
        .withNewMetadata()
        .withName(DiskNames.volumeSnapshot(disk.getMetadata().getName(), request.name))
        .withNamespace(disk.getMetadata().getNamespace())
        .addToLabels(PvcModel.LABEL_MANAGED_BY, PvcModel.MANAGER)
        .addToLabels(PvcModel.LABEL_DISK, disk.getMetadata().getName())
        .addNewOwnerReference()
        .withApiVersion(disk.getApiVersion()).withKind(disk.getKind())
        .withName(disk.getMetadata().getName()).withUid(disk.getMetadata().getUid())
        .withController(true).withBlockOwnerDeletion(true)
        .endOwnerReference()
        .endMetadata()
        .addToAdditionalProperties("spec", spec)
        .build();
  }
}
