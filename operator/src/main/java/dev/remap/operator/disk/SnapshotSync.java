package dev.remap.operator.disk;

import dev.remap.api.disk.SnapshotRequest;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Keeps one CSI VolumeSnapshot per spec.snapshots entry of a bound disk and reports on them.
 * Done here rather than as an informer-backed dependent because the snapshot API is a CRD that
 * may be missing: the operator must run (and say so in the status) without it. VolumeSnapshots
 * are owned by the disk, so the garbage collector removes them with it; entries removed from
 * spec.snapshots are deleted here.
 */
final class SnapshotSync {

  static final ResourceDefinitionContext SNAPSHOT = VolumeSnapshotModel.SNAPSHOTS;

  private final KubernetesClient client;

  SnapshotSync(KubernetesClient client) {
    this.client = client;
  }

  /** Applies the wanted snapshots, deletes the unwanted ones, and returns their states. */
  List<SnapshotStatus> sync(VirtualDisk disk) {
    List<SnapshotRequest> wanted = disk.getSpec().snapshots == null ? List.of() : disk.getSpec().snapshots;
    String ns = disk.getMetadata().getNamespace();
    if (!served()) {
      // Nothing can be pruned either: without the API there are no VolumeSnapshots.
      return wanted.stream().map(w -> state(w.name, null, false,
          "the VolumeSnapshot API (snapshot.storage.k8s.io/v1) is not installed: install the external-snapshotter")).toList();
    }
    List<SnapshotStatus> result = new ArrayList<>();
    for (GenericKubernetesResource desired : VolumeSnapshotModel.desired(disk)) {
      GenericKubernetesResource actual = client.genericKubernetesResources(SNAPSHOT).inNamespace(ns)
          .withName(desired.getMetadata().getName()).get();
      if (actual == null) {
        // Created once and never updated: a VolumeSnapshot's spec is immutable.
        actual = client.genericKubernetesResources(SNAPSHOT).inNamespace(ns).resource(desired).create();
      }
      result.add(observe(requestName(disk, actual), actual));
    }
    Set<String> keep = VolumeSnapshotModel.desired(disk).stream().map(s -> s.getMetadata().getName())
        .collect(Collectors.toSet());
    for (GenericKubernetesResource existing : client.genericKubernetesResources(SNAPSHOT).inNamespace(ns)
        .withLabel(PvcModel.LABEL_DISK, disk.getMetadata().getName()).list().getItems()) {
      if (!keep.contains(existing.getMetadata().getName()) && ownedBy(existing, disk)) {
        client.genericKubernetesResources(SNAPSHOT).inNamespace(ns).resource(existing).delete();
      }
    }
    return result;
  }

  private boolean served() {
    try {
      APIResourceList list = client.getApiResources("snapshot.storage.k8s.io/v1");
      return list != null && list.getResources().stream().anyMatch(r -> "volumesnapshots".equals(r.getName()));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  @SuppressWarnings("unchecked")
  static SnapshotStatus observe(String name, GenericKubernetesResource snapshot) {
    Object s = snapshot.getAdditionalProperties().get("status");
    Map<String, Object> status = s instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    Object error = status.get("error") instanceof Map<?, ?> e ? ((Map<String, Object>) e).get("message") : null;
    return state(name, snapshot.getMetadata().getName(), Boolean.TRUE.equals(status.get("readyToUse")),
        error == null ? null : error.toString());
  }

  private static SnapshotStatus state(String name, String volumeSnapshot, boolean ready, String error) {
    SnapshotStatus st = new SnapshotStatus();
    st.name = name;
    st.volumeSnapshotName = volumeSnapshot;
    st.readyToUse = ready;
    st.error = error;
    return st;
  }

  private static String requestName(VirtualDisk disk, GenericKubernetesResource snapshot) {
    return snapshot.getMetadata().getName().substring(disk.getMetadata().getName().length() + 1);
  }

  private static boolean ownedBy(GenericKubernetesResource r, VirtualDisk disk) {
    return r.getMetadata().getOwnerReferences().stream().anyMatch(o -> disk.getMetadata().getUid().equals(o.getUid()));
  }
}
