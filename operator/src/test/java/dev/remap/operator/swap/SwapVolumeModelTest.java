package dev.remap.operator.swap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.swap.VmMemorySwap;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The PV and PVC of issue 16's contract, field by field, as the CSI node will read them. */
class SwapVolumeModelTest {

  @Test
  void thePersistentVolumeCarriesTheContractsHandleAndAttributes() {
    VmMemorySwap swap = SwapFixtures.swap("vms", "vm1-swap",
        "{vmName: vm1, size: 4Gi, memoryLimit: 1Gi, spill: {size: 8Gi, location: /var/lib/remap/swap}, label: guest-swap}");
    PersistentVolume pv = SwapVolumeModel.persistentVolume(swap);

    assertThat(pv.getMetadata().getName()).isEqualTo("remap-swap-" + SwapFixtures.UID);
    assertThat(pv.getMetadata().getNamespace()).isNull();
    assertThat(pv.getSpec().getCsi().getDriver()).isEqualTo("csi.remap.dev");
    assertThat(pv.getSpec().getCsi().getVolumeHandle()).isEqualTo("swap/vms/vm1-swap");
    assertThat(pv.getSpec().getVolumeMode()).isEqualTo("Block");
    assertThat(pv.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(Quantity.getAmountInBytes(pv.getSpec().getCapacity().get("storage")).longValueExact()).isEqualTo(4L << 30);
    assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Delete");
    assertThat(pv.getSpec().getStorageClassName()).isEmpty();
    assertThat(pv.getSpec().getClaimRef().getNamespace()).isEqualTo("vms");
    assertThat(pv.getSpec().getClaimRef().getName()).isEqualTo("vm1-swap-swap");
    assertThat(pv.getSpec().getCsi().getVolumeAttributes()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "remap.dev/kind", "swap",
        "remap.dev/swap-size", "4294967296",
        "remap.dev/swap-memory-limit", "1073741824",
        "remap.dev/swap-spill-size", "8589934592",
        "remap.dev/swap-spill-location", "/var/lib/remap/swap",
        "remap.dev/swap-discard", "true",
        "remap.dev/swap-label", "guest-swap"));
  }

  @Test
  void noSpillNoDiscardAndTheDefaultLabel() {
    VmMemorySwap swap = SwapFixtures.swap("vms", "s", "{vmName: vm1, size: \"1048576\", memoryLimit: 1Mi, discard: false}");
    assertThat(SwapVolumeModel.persistentVolume(swap).getSpec().getCsi().getVolumeAttributes())
        .containsExactlyInAnyOrderEntriesOf(Map.of(
            "remap.dev/kind", "swap",
            "remap.dev/swap-size", "1048576",
            "remap.dev/swap-memory-limit", "1048576",
            "remap.dev/swap-discard", "false",
            "remap.dev/swap-label", "remap-swap"));
  }

  @Test
  void formatNoneHasNoLabelAttribute() {
    VmMemorySwap swap = SwapFixtures.swap("vms", "s", "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, format: none}");
    assertThat(SwapVolumeModel.persistentVolume(swap).getSpec().getCsi().getVolumeAttributes())
        .doesNotContainKey("remap.dev/swap-label").containsEntry("remap.dev/kind", "swap");
  }

  @Test
  void thePvcIsBoundInAdvanceOwnedByTheSwapAndLabelled() {
    VmMemorySwap swap = SwapFixtures.swap("vms", "vm1", "{vmName: vm1, size: 2Gi, memoryLimit: 2Gi}");
    PersistentVolumeClaim pvc = SwapVolumeModel.pvc(swap);

    assertThat(pvc.getMetadata().getName()).isEqualTo("vm1-swap");
    assertThat(pvc.getMetadata().getNamespace()).isEqualTo("vms");
    assertThat(pvc.getMetadata().getLabels()).containsEntry("remap.dev/swap", "vm1");
    assertThat(pvc.getSpec().getVolumeName()).isEqualTo("remap-swap-" + SwapFixtures.UID);
    assertThat(pvc.getSpec().getStorageClassName()).isEmpty();
    assertThat(pvc.getSpec().getVolumeMode()).isEqualTo("Block");
    assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(Quantity.getAmountInBytes(pvc.getSpec().getResources().getRequests().get("storage")).longValueExact())
        .isEqualTo(2L << 30);
    OwnerReference owner = pvc.getMetadata().getOwnerReferences().get(0);
    assertThat(owner.getKind()).isEqualTo("VmMemorySwap");
    assertThat(owner.getUid()).isEqualTo(SwapFixtures.UID);
    assertThat(owner.getController()).isTrue();
    // The PV's request and the PVC's must agree, or the PV controller refuses to bind them.
    assertThat(pvc.getSpec().getResources().getRequests().get("storage"))
        .isEqualTo(SwapVolumeModel.persistentVolume(swap).getSpec().getCapacity().get("storage"));
  }
}
