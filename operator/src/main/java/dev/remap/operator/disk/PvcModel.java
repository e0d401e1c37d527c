package dev.remap.operator.disk;

import dev.remap.api.disk.DiskParameters;
import dev.remap.api.disk.DiskSource;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskSpec;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TypedLocalObjectReference;
import io.fabric8.kubernetes.api.model.TypedLocalObjectReferenceBuilder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a VirtualDisk into the PVC that holds it. Pure: no I/O, tested without a cluster.
 *
 * <p>The disk's parameters travel as PVC annotations because one StorageClass serves disks of
 * every shape: the CSI driver reads them at CreateVolume (the external-provisioner passes the
 * PVC's name and namespace with --extra-create-metadata). Snapshots and clones are PVC data
 * sources, so the CSI controller does them as mapping copies. An import is a volume the operator
 * makes in the store, with a PersistentVolume ({@link #importedVolume}) the PVC names.
 */
public final class PvcModel {

  public static final String ANNOTATION_PREFIX = "remap.dev/";
  public static final String BLOCK_SIZE = ANNOTATION_PREFIX + "block-size";
  public static final String CHUNK_SIZE = ANNOTATION_PREFIX + "chunk-size";
  public static final String RAM_CACHE_SIZE = ANNOTATION_PREFIX + "ram-cache-size";
  public static final String DISK_CACHE_SIZE = ANNOTATION_PREFIX + "disk-cache-size";
  public static final String LABEL_DISK = ANNOTATION_PREFIX + "virtual-disk";
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGER = "remap-operator";

  private PvcModel() {}

  public static PersistentVolumeClaim desired(VirtualDisk disk) {
    VirtualDiskSpec spec = disk.getSpec();
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(LABEL_MANAGED_BY, MANAGER);
    labels.put(LABEL_DISK, disk.getMetadata().getName());
    return new PersistentVolumeClaimBuilder()
        .withNewMetadata()
        .withName(DiskNames.pvc(disk))
        .withNamespace(disk.getMetadata().getNamespace())
        .withLabels(labels)
        .withAnnotations(annotations(spec))
        // The disk controls its PVC: the garbage collector deletes the PVC after the disk, and
        // blockOwnerDeletion keeps a foreground deletion of the disk waiting for it.
        .addNewOwnerReference()
        .withApiVersion(disk.getApiVersion()).withKind(disk.getKind())
        .withName(disk.getMetadata().getName()).withUid(disk.getMetadata().getUid())
        .withController(true).withBlockOwnerDeletion(true)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withAccessModes(accessMode(spec.accessMode))
        .withVolumeMode(spec.volumeMode == VirtualDiskSpec.VolumeMode.FILESYSTEM ? "Filesystem" : "Block")
        .withStorageClassName(spec.storageClassName)
        .withNewResources().addToRequests("storage", new Quantity(spec.size)).endResources()
        .withDataSource(dataSource(spec.source))
        .withVolumeName(imports(spec) ? DiskNames.imported(disk) : null)
        .endSpec()
        .build();
  }

  public static boolean imports(VirtualDiskSpec spec) {
    return spec.source != null && spec.source.importFrom != null;
  }

  /**
   * The PersistentVolume of an imported disk, bound in advance to its PVC. It carries the
   * provisioned-by annotation of the class's provisioner with reclaim policy Delete, so that the
   * provisioner deletes the volume from the store when the disk goes, as for any other disk.
   */
  public static PersistentVolume importedVolume(VirtualDisk disk, String driver) {
    VirtualDiskSpec spec = disk.getSpec();
    String name = DiskNames.imported(disk);
    boolean filesystem = spec.volumeMode == VirtualDiskSpec.VolumeMode.FILESYSTEM;
    Map<String, String> attributes = new LinkedHashMap<>();
    DiskParameters p = spec.parameters != null ? spec.parameters : new DiskParameters();
    // The node reads the class's cache sizes from the volume context, in bytes.
    if (p.ramCacheSize != null) {
      attributes.put("ramCacheSize", Quantity.getAmountInBytes(new Quantity(p.ramCacheSize)).toBigIntegerExact().toString());
    }
    if (p.diskCacheSize != null) {
      attributes.put("diskCacheSize", Quantity.getAmountInBytes(new Quantity(p.diskCacheSize)).toBigIntegerExact().toString());
    }
    return new PersistentVolumeBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(Map.of(LABEL_MANAGED_BY, MANAGER, LABEL_DISK, disk.getMetadata().getName()))
        .withAnnotations(Map.of("pv.kubernetes.io/provisioned-by", driver))
        .endMetadata()
        .withNewSpec()
        .withCapacity(Map.of("storage", new Quantity(spec.size)))
        .withAccessModes(accessMode(spec.accessMode))
        .withVolumeMode(filesystem ? "Filesystem" : "Block")
        .withStorageClassName(spec.storageClassName)
        .withPersistentVolumeReclaimPolicy("Delete")
        .withNewClaimRef().withApiVersion("v1").withKind("PersistentVolumeClaim")
        .withNamespace(disk.getMetadata().getNamespace()).withName(DiskNames.pvc(disk)).endClaimRef()
        .withNewCsi().withDriver(driver).withVolumeHandle(name).withFsType(filesystem ? "ext4" : null)
        .withVolumeAttributes(attributes).endCsi()
        .endSpec()
        .build();
  }

  static Map<String, String> annotations(VirtualDiskSpec spec) {
    DiskParameters p = spec.parameters != null ? spec.parameters : new DiskParameters();
    Map<String, String> a = new LinkedHashMap<>();
    a.put(BLOCK_SIZE, String.valueOf(p.blockSize != null ? p.blockSize : DiskParameters.DEFAULT_BLOCK_SIZE));
    a.put(CHUNK_SIZE, p.chunkSize != null ? p.chunkSize : DiskParameters.DEFAULT_CHUNK_SIZE);
    if (p.ramCacheSize != null) {
      a.put(RAM_CACHE_SIZE, p.ramCacheSize);
    }
    if (p.diskCacheSize != null) {
      a.put(DISK_CACHE_SIZE, p.diskCacheSize);
    }
    return a;
  }

  /** The PVC data source for a snapshot or clone source; null for an empty disk or an import. */
  static TypedLocalObjectReference dataSource(DiskSource source) {
    if (source == null) {
      return null;
    }
    if (source.snapshot != null) {
      return new TypedLocalObjectReferenceBuilder().withApiGroup("snapshot.storage.k8s.io").withKind("VolumeSnapshot")
          .withName(DiskNames.volumeSnapshot(source.snapshot.virtualDisk, source.snapshot.name)).build();
    }
    if (source.virtualDisk != null) {
      // The other disk's PVC has the other disk's name (DiskNames.pvc).
      return new TypedLocalObjectReferenceBuilder().withKind("PersistentVolumeClaim")
          .withName(source.virtualDisk.name).build();
    }
    return null;
  }

  static String accessMode(VirtualDiskSpec.AccessMode mode) {
    return switch (mode == null ? VirtualDiskSpec.AccessMode.READ_WRITE_ONCE : mode) {
      case READ_WRITE_ONCE -> "ReadWriteOnce";
      case READ_WRITE_ONCE_POD -> "ReadWriteOncePod";
      case READ_WRITE_MANY -> "ReadWriteMany";
      case READ_ONLY_MANY -> "ReadOnlyMany";
    };
  }
}
