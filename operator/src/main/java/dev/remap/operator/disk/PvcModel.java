package dev.remap.operator.disk;

import dev.remap.api.disk.DiskParameters;
import dev.remap.api.disk.DiskSource;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskSpec;
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
 * sources, so the CSI controller does them as mapping copies; imports are an annotation the
 * driver acts on when it creates the volume.
 */
public final class PvcModel {

  public static final String ANNOTATION_PREFIX = "remap.dev/";
  public static final String BLOCK_SIZE = ANNOTATION_PREFIX + "block-size";
  public static final String CHUNK_SIZE = ANNOTATION_PREFIX + "chunk-size";
  public static final String RAM_CACHE_SIZE = ANNOTATION_PREFIX + "ram-cache-size";
  public static final String DISK_CACHE_SIZE = ANNOTATION_PREFIX + "disk-cache-size";
  public static final String IMPORT_STORE_URI = ANNOTATION_PREFIX + "import-store-uri";
  public static final String IMPORT_ENDPOINT = ANNOTATION_PREFIX + "import-endpoint";
  public static final String IMPORT_SECRET = ANNOTATION_PREFIX + "import-secret";
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
    if (spec.source != null && spec.source.importFrom != null) {
      a.put(IMPORT_STORE_URI, spec.source.importFrom.storeUri);
      if (spec.source.importFrom.endpoint != null) {
        a.put(IMPORT_ENDPOINT, spec.source.importFrom.endpoint);
      }
      if (spec.source.importFrom.secretRef != null) {
        a.put(IMPORT_SECRET, spec.source.importFrom.secretRef.name);
      }
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
