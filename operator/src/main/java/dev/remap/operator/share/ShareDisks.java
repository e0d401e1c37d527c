package dev.remap.operator.share;

import dev.remap.api.share.LogicalDiskShare;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;

/**
 * Makes the PersistentVolume and PVC of each VM disk ({@link ShareDiskModel}) and deletes them
 * when the disk is released. Glue: all decisions are the model's.
 */
final class ShareDisks {

  private final KubernetesClient client;

  ShareDisks(KubernetesClient client) {
    this.client = client;
  }

  /** Creates what is missing; answers whether the PVC is bound. */
  boolean ensure(LogicalDiskShare share, ShareDiskModel.Disk disk) {
    PersistentVolume pv = ShareDiskModel.persistentVolume(share, disk);
    if (client.persistentVolumes().withName(pv.getMetadata().getName()).get() == null) {
      client.persistentVolumes().resource(pv).create();
    }
    PersistentVolumeClaim want = ShareDiskModel.pvc(share, disk);
    PersistentVolumeClaim pvc = client.persistentVolumeClaims().inNamespace(want.getMetadata().getNamespace())
        .withName(want.getMetadata().getName()).get();
    if (pvc == null) {
      client.persistentVolumeClaims().resource(want).create();
      return false;
    }
    return pvc.getStatus() != null && "Bound".equals(pvc.getStatus().getPhase());
  }

  /** Deletes the PVC and PV of a disk the VM no longer uses. */
  void delete(LogicalDiskShare share, String vm, String group, long generation) {
    client.persistentVolumeClaims().inNamespace(share.getMetadata().getNamespace())
        .withName(ShareNames.pvc(share, vm, group, generation)).delete();
    client.persistentVolumes().withName(ShareNames.persistentVolume(share, vm, group, generation)).delete();
  }

  /** Every PersistentVolume of the share (the finalizer deletes them: no owner reference reaches them). */
  List<PersistentVolume> all(LogicalDiskShare share) {
    return client.persistentVolumes().withLabel(ShareDiskModel.LABEL_SHARE, share.getMetadata().getUid()).list()
        .getItems();
  }

}
