package dev.remap.operator.disk;

import dev.remap.api.disk.VirtualDisk;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;

/**
 * The disk's PVC. Owned by the VirtualDisk (owner reference), so kube-controller-manager's
 * garbage collector deletes it after the disk; what happens to the volume then is the
 * StorageClass's reclaim policy.
 */
public class PvcDependent extends CRUDKubernetesDependentResource<PersistentVolumeClaim, VirtualDisk> {

  public PvcDependent() {
    super(PersistentVolumeClaim.class);
  }

  @Override
  protected PersistentVolumeClaim desired(VirtualDisk disk, Context<VirtualDisk> context) {
    return PvcModel.desired(disk);
  }
}
