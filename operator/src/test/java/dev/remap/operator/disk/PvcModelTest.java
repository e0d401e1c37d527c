package dev.remap.operator.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.common.SecretRef;
import dev.remap.api.disk.DiskSource;
import dev.remap.api.disk.ImportSource;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskSpec;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import org.junit.jupiter.api.Test;

class PvcModelTest {

  static VirtualDisk disk(String name, String size) {
    VirtualDisk disk = new VirtualDisk();
    disk.getMetadata().setName(name);
    disk.getMetadata().setNamespace("ns1");
    disk.getMetadata().setUid("0b5e8f1c-3f1a-4c2b-9d7e-1234567890ab");
    disk.getMetadata().setGeneration(3L);
    VirtualDiskSpec spec = new VirtualDiskSpec();
    spec.size = size;
    disk.setSpec(spec);
    return disk;
  }

  @Test
  void anEmptyDiskIsABlockPvcOfTheRemapClassWithItsShapeInAnnotations() {
    PersistentVolumeClaim pvc = PvcModel.desired(disk("data", "10Gi"));
    assertThat(pvc.getMetadata().getName()).isEqualTo("data");
    assertThat(pvc.getMetadata().getNamespace()).isEqualTo("ns1");
    assertThat(pvc.getMetadata().getLabels()).containsEntry("remap.dev/virtual-disk", "data")
        .containsEntry("app.kubernetes.io/managed-by", "remap-operator");
    assertThat(pvc.getMetadata().getAnnotations()).containsEntry("remap.dev/block-size", "4096")
        .containsEntry("remap.dev/chunk-size", "1Mi").doesNotContainKey("remap.dev/ram-cache-size");
    assertThat(pvc.getSpec().getStorageClassName()).isEqualTo("remap");
    assertThat(pvc.getSpec().getVolumeMode()).isEqualTo("Block");
    assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(pvc.getSpec().getResources().getRequests().get("storage").toString()).isEqualTo("10Gi");
    assertThat(pvc.getSpec().getDataSource()).isNull();
    assertThat(pvc.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getKind()).isEqualTo("VirtualDisk");
      assertThat(o.getApiVersion()).isEqualTo("remap.dev/v1alpha1");
      assertThat(o.getUid()).isEqualTo("0b5e8f1c-3f1a-4c2b-9d7e-1234567890ab");
      assertThat(o.getController()).isTrue();
      assertThat(o.getBlockOwnerDeletion()).isTrue();
    });
  }

  @Test
  void specChoicesReachThePvc() {
    VirtualDisk d = disk("data", "1536");
    d.getSpec().volumeMode = VirtualDiskSpec.VolumeMode.FILESYSTEM;
    d.getSpec().accessMode = VirtualDiskSpec.AccessMode.READ_WRITE_MANY;
    d.getSpec().storageClassName = "fast";
    d.getSpec().parameters.blockSize = 512;
    d.getSpec().parameters.chunkSize = "64Ki";
    d.getSpec().parameters.ramCacheSize = "1Gi";
    d.getSpec().parameters.diskCacheSize = "0";
    PersistentVolumeClaim pvc = PvcModel.desired(d);
    assertThat(pvc.getSpec().getVolumeMode()).isEqualTo("Filesystem");
    assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteMany");
    assertThat(pvc.getSpec().getStorageClassName()).isEqualTo("fast");
    assertThat(pvc.getMetadata().getAnnotations()).containsEntry("remap.dev/block-size", "512")
        .containsEntry("remap.dev/chunk-size", "64Ki").containsEntry("remap.dev/ram-cache-size", "1Gi")
        .containsEntry("remap.dev/disk-cache-size", "0");
  }

  @Test
  void aSnapshotSourceIsAVolumeSnapshotDataSource() {
    VirtualDisk d = disk("copy", "10Gi");
    d.getSpec().source = DiskSource.ofSnapshot("data", "monday");
    PersistentVolumeClaim pvc = PvcModel.desired(d);
    assertThat(pvc.getSpec().getDataSource().getApiGroup()).isEqualTo("snapshot.storage.k8s.io");
    assertThat(pvc.getSpec().getDataSource().getKind()).isEqualTo("VolumeSnapshot");
    assertThat(pvc.getSpec().getDataSource().getName()).isEqualTo("data-monday");
  }

  @Test
  void aCloneSourceIsTheOtherDisksPvc() {
    VirtualDisk d = disk("copy", "10Gi");
    d.getSpec().source = DiskSource.ofDisk("data");
    PersistentVolumeClaim pvc = PvcModel.desired(d);
    assertThat(pvc.getSpec().getDataSource().getApiGroup()).isNull();
    assertThat(pvc.getSpec().getDataSource().getKind()).isEqualTo("PersistentVolumeClaim");
    assertThat(pvc.getSpec().getDataSource().getName()).isEqualTo("data");
  }

  @Test
  void anImportIsAPvcBoundToTheOperatorsPersistentVolume() {
    VirtualDisk d = disk("imported", "10Gi");
    d.getSpec().source = new DiskSource();
    d.getSpec().source.importFrom = new ImportSource();
    d.getSpec().source.importFrom.storeUri = "s3://exports/data";
    d.getSpec().source.importFrom.secretRef = new SecretRef("s3-creds");
    d.getSpec().volumeMode = VirtualDiskSpec.VolumeMode.FILESYSTEM;
    d.getSpec().parameters = new dev.remap.api.disk.DiskParameters();
    d.getSpec().parameters.ramCacheSize = "64Mi";
    PersistentVolumeClaim pvc = PvcModel.desired(d);
    assertThat(pvc.getSpec().getDataSource()).isNull();
    assertThat(pvc.getSpec().getVolumeName()).isEqualTo("remap-import-0b5e8f1c3f1a4c2b9d7e");
    assertThat(pvc.getMetadata().getAnnotations().keySet()).noneMatch(k -> k.contains("import"));

    var pv = PvcModel.importedVolume(d, "csi.remap.dev");
    assertThat(pv.getMetadata().getName()).isEqualTo(pvc.getSpec().getVolumeName());
    assertThat(pv.getMetadata().getAnnotations()).containsEntry("pv.kubernetes.io/provisioned-by", "csi.remap.dev");
    assertThat(pv.getSpec().getClaimRef().getName()).isEqualTo("imported");
    assertThat(pv.getSpec().getClaimRef().getNamespace()).isEqualTo("ns1");
    assertThat(pv.getSpec().getCsi().getVolumeHandle()).isEqualTo(pv.getMetadata().getName());
    assertThat(pv.getSpec().getCsi().getFsType()).isEqualTo("ext4");
    assertThat(pv.getSpec().getCsi().getVolumeAttributes()).containsEntry("ramCacheSize", "67108864");
    assertThat(pv.getSpec().getCapacity().get("storage").toString()).isEqualTo("10Gi");
    assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Delete");
    assertThat(pv.getSpec().getStorageClassName()).isEqualTo(pvc.getSpec().getStorageClassName());
    assertThat(pv.getSpec().getVolumeMode()).isEqualTo("Filesystem");
  }

  @Test
  void snapshotsBecomeVolumeSnapshotsOfThePvc() {
    VirtualDisk d = disk("data", "10Gi");
    d.getSpec().snapshots.add(new dev.remap.api.disk.SnapshotRequest("monday"));
    var snapshots = VolumeSnapshotModel.desired(d);
    assertThat(snapshots).hasSize(1);
    assertThat(snapshots.get(0).getMetadata().getName()).isEqualTo("data-monday");
    assertThat(snapshots.get(0).getApiVersion()).isEqualTo("snapshot.storage.k8s.io/v1");
    assertThat(snapshots.get(0).getAdditionalProperties().get("spec").toString())
        .contains("persistentVolumeClaimName=data");
  }
}
