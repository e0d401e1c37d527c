package dev.remap.operator.share;

import dev.remap.api.share.LogicalDiskShare;
import dev.remap.operator.disk.PvcModel;
import dev.remap.operator.swap.SwapVolumeModel;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A VM's disk of a share as Kubernetes sees it: a static PersistentVolume whose CSI volume handle
 * is the Remap volume the agent made (the VM's clone of its group's disk, or the group's base
 * itself for a read-only share) and the PVC bound to it, in the share's namespace. Pure.
 *
 * <p>Static, because the disk exists before Kubernetes hears of it (the agent builds it by
 * remapping); reclaim policy Retain, because the Remap volume is the agent's to delete once the
 * VM no longer uses it (the operator asks it to, /release), not the CSI controller's.
 */
public final class ShareDiskModel {

  public static final String LABEL_SHARE = SwapVolumeModel.PREFIX + "share";
  public static final String LABEL_NAMESPACE = SwapVolumeModel.PREFIX + "share-namespace";
  public static final String LABEL_VM = SwapVolumeModel.PREFIX + "share-vm";
  public static final String LABEL_GROUP_HASH = SwapVolumeModel.PREFIX + "share-group";
  public static final String LABEL_GENERATION = SwapVolumeModel.PREFIX + "share-generation";
  /** On the PV: the Remap volume, for the operator's /release after the PV is gone. */
  public static final String ANNOTATION_VOLUME = SwapVolumeModel.PREFIX + "share-volume";

  private ShareDiskModel() {}

  /** One disk: the VM, its group, the Remap volume, its generation and size, and whether read-only. */
  public record Disk(String vm, String group, String volume, long generation, long size, boolean readOnly) {}

  public static PersistentVolume persistentVolume(LogicalDiskShare share, Disk disk) {
    String ns = share.getMetadata().getNamespace();
    return new PersistentVolumeBuilder()
        .withNewMetadata()
        .withName(ShareNames.persistentVolume(share, disk.vm(), disk.group(), disk.generation()))
        .withLabels(labels(share, disk, true))
        .withAnnotations(Map.of(ANNOTATION_VOLUME, disk.volume()))
        .endMetadata()
        .withNewSpec()
        .withCapacity(Map.of("storage", new Quantity(Long.toString(disk.size()))))
        .withAccessModes(accessMode(disk))
        .withVolumeMode("Block")
        .withStorageClassName("")
        .withPersistentVolumeReclaimPolicy("Retain")
        .withNewClaimRef().withApiVersion("v1").withKind("PersistentVolumeClaim")
        .withNamespace(ns).withName(ShareNames.pvc(share, disk.vm(), disk.group(), disk.generation())).endClaimRef()
        .withNewCsi().withDriver(SwapVolumeModel.DRIVER).withVolumeHandle(disk.volume()).withReadOnly(disk.readOnly())
        .endCsi()
        .endSpec()
        .build();
  }

  public static PersistentVolumeClaim pvc(LogicalDiskShare share, Disk disk) {
    return new PersistentVolumeClaimBuilder()
        .withNewMetadata()
        .withName(ShareNames.pvc(share, disk.vm(), disk.group(), disk.generation()))
        .withNamespace(share.getMetadata().getNamespace())
        .withLabels(labels(share, disk, false))
        // The garbage collector deletes the PVC after its share.
        .addNewOwnerReference()
        .withApiVersion(share.getApiVersion()).withKind(share.getKind())
        .withName(share.getMetadata().getName()).withUid(share.getMetadata().getUid())
        .withController(true)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withAccessModes(accessMode(disk))
        .withVolumeMode("Block")
        .withStorageClassName("")
        .withVolumeName(ShareNames.persistentVolume(share, disk.vm(), disk.group(), disk.generation()))
        .withNewResources().addToRequests("storage", new Quantity(Long.toString(disk.size()))).endResources()
        .endSpec()
        .build();
  }

  private static String accessMode(Disk disk) {
    // A read-only share's VMs all read the one base disk, on any nodes.
    return disk.readOnly() ? "ReadOnlyMany" : "ReadWriteOnce";
  }

  private static Map<String, String> labels(LogicalDiskShare share, Disk disk, boolean withNamespace) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(PvcModel.LABEL_MANAGED_BY, PvcModel.MANAGER);
    labels.put(LABEL_SHARE, share.getMetadata().getUid());
    if (withNamespace) {
      labels.put(LABEL_NAMESPACE, share.getMetadata().getNamespace());
    }
    labels.put(LABEL_VM, disk.vm().length() <= 63 ? disk.vm() : ShareNames.hash(disk.vm()).substring(0, 63));
    labels.put(LABEL_GROUP_HASH, ShareNames.hash(disk.group()).substring(0, 16));
    labels.put(LABEL_GENERATION, Long.toString(disk.generation()));
    return labels;
  }
}
