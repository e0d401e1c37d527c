package dev.remap.operator.disk;

import dev.remap.api.disk.VirtualDisk;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;

/**
 * Guards a user's own PVC: when a PVC of the disk's name exists and is not owned by this disk,
 * the PVC dependent is not reconciled (a server-side apply would otherwise adopt it) and the
 * status says PvcConflict.
 */
public class PvcNotForeign implements Condition<PersistentVolumeClaim, VirtualDisk> {

  @Override
  public boolean isMet(DependentResource<PersistentVolumeClaim, VirtualDisk> dependent, VirtualDisk disk,
      Context<VirtualDisk> context) {
    return !isForeign(context.getClient().persistentVolumeClaims().inNamespace(disk.getMetadata().getNamespace())
        .withName(DiskNames.pvc(disk)).get(), disk);
  }

  static boolean isForeign(PersistentVolumeClaim pvc, VirtualDisk disk) {
    return pvc != null && pvc.getMetadata().getOwnerReferences().stream()
        .noneMatch(o -> disk.getMetadata().getUid().equals(o.getUid()));
  }
}
