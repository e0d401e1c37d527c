package dev.remap.operator.share;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.share.LogicalDiskShare;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.api.Test;

/** A VM disk of a share as a static PV and its PVC, built without a cluster. */
class ShareDiskModelTest {

  static final LogicalDiskShare SHARE = ShareAgentModelTest.share("{" + ShareAgentModelTest.CLOUD + ", allocation: []}");
  static final String VOLUME = "share-lds-0a1b-3f2a1c9e0b7d-g2-vm-9c8b7a6f5e4d";
  static final long SIZE = 3L << 30;

  @Test
  void aVmDiskIsAStaticBlockVolumeOfTheAgentsVolumeBoundInAdvanceToItsClaim() {
    ShareDiskModel.Disk disk = new ShareDiskModel.Disk("vm-a", "Photos", VOLUME, 2, SIZE, false);
    PersistentVolume pv = ShareDiskModel.persistentVolume(SHARE, disk);
    PersistentVolumeClaim pvc = ShareDiskModel.pvc(SHARE, disk);

    assertThat(pv.getMetadata().getName()).isEqualTo(ShareNames.persistentVolume(SHARE, "vm-a", "Photos", 2));
    assertThat(pv.getMetadata().getAnnotations()).containsEntry(ShareDiskModel.ANNOTATION_VOLUME, VOLUME);
    assertThat(pv.getSpec().getCsi().getDriver()).isEqualTo("csi.remap.dev");
    assertThat(pv.getSpec().getCsi().getVolumeHandle()).isEqualTo(VOLUME);
    assertThat(pv.getSpec().getCsi().getReadOnly()).isFalse();
    assertThat(pv.getSpec().getVolumeMode()).isEqualTo("Block");
    assertThat(pv.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    // Retain: the Remap volume is the agent's to delete (/release), not the CSI controller's.
    assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Retain");
    assertThat(pv.getSpec().getStorageClassName()).isEmpty();
    assertThat(Quantity.getAmountInBytes(pv.getSpec().getCapacity().get("storage")).longValueExact()).isEqualTo(SIZE);
    assertThat(pv.getSpec().getClaimRef().getNamespace()).isEqualTo("vms");
    assertThat(pv.getSpec().getClaimRef().getName()).isEqualTo(pvc.getMetadata().getName());
    assertThat(pv.getMetadata().getLabels()).containsEntry(ShareDiskModel.LABEL_SHARE, ShareAgentModelTest.UID)
        .containsEntry(ShareDiskModel.LABEL_NAMESPACE, "vms").containsEntry(ShareDiskModel.LABEL_VM, "vm-a")
        .containsEntry(ShareDiskModel.LABEL_GENERATION, "2");

    assertThat(pvc.getMetadata().getName()).isEqualTo(ShareNames.pvc(SHARE, "vm-a", "Photos", 2)).startsWith("family-");
    assertThat(pvc.getMetadata().getNamespace()).isEqualTo("vms");
    assertThat(pvc.getSpec().getVolumeName()).isEqualTo(pv.getMetadata().getName());
    assertThat(pvc.getSpec().getVolumeMode()).isEqualTo("Block");
    assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(pvc.getSpec().getStorageClassName()).isEmpty();
    assertThat(pvc.getSpec().getResources().getRequests().get("storage"))
        .isEqualTo(pv.getSpec().getCapacity().get("storage"));
    assertThat(pvc.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getKind()).isEqualTo("LogicalDiskShare");
      assertThat(o.getUid()).isEqualTo(ShareAgentModelTest.UID);
      assertThat(o.getController()).isTrue();
    });
    assertThat(pvc.getMetadata().getLabels()).containsEntry(ShareDiskModel.LABEL_SHARE, ShareAgentModelTest.UID)
        .doesNotContainKey(ShareDiskModel.LABEL_NAMESPACE);
  }

  @Test
  void aReadOnlyShareGivesEveryVmTheBaseDiskReadOnlyManyOnAnyNode() {
    ShareDiskModel.Disk disk = new ShareDiskModel.Disk("vm-a", "Photos", "share-lds-x-g1", 1, SIZE, true);
    PersistentVolume pv = ShareDiskModel.persistentVolume(SHARE, disk);
    assertThat(pv.getSpec().getAccessModes()).containsExactly("ReadOnlyMany");
    assertThat(pv.getSpec().getCsi().getReadOnly()).isTrue();
    assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Retain");
    assertThat(ShareDiskModel.pvc(SHARE, disk).getSpec().getAccessModes()).containsExactly("ReadOnlyMany");
  }

  @Test
  void eachVmGroupAndGenerationHasItsOwnNamesAndLongVmNamesStillMakeValidLabels() {
    String vm = "v".repeat(200);
    ShareDiskModel.Disk disk = new ShareDiskModel.Disk(vm, "Family photos", VOLUME, 1, SIZE, false);
    PersistentVolume pv = ShareDiskModel.persistentVolume(SHARE, disk);
    assertThat(pv.getMetadata().getLabels().get(ShareDiskModel.LABEL_VM)).hasSize(63).matches("[0-9a-f]+");
    assertThat(pv.getMetadata().getLabels().get(ShareDiskModel.LABEL_GROUP_HASH)).hasSize(16);
    assertThat(ShareNames.persistentVolume(SHARE, vm, "Family photos", 1))
        .isNotEqualTo(ShareNames.persistentVolume(SHARE, vm, "Family photos", 2))
        .isNotEqualTo(ShareNames.persistentVolume(SHARE, "vm-b", "Family photos", 1));
    assertThat(ShareNames.pvc(SHARE, vm, "Family photos", 1)).hasSizeLessThanOrEqualTo(63);
  }
}
