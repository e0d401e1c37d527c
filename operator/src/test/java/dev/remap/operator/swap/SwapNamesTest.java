package dev.remap.operator.swap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.swap.VmMemorySwap;
import org.junit.jupiter.api.Test;

class SwapNamesTest {

  @Test
  void shortNamesFollowTheContract() {
    VmMemorySwap swap = SwapFixtures.swap("vms", "db", "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi}");
    assertThat(SwapNames.pvc(swap)).isEqualTo("db-swap");
    assertThat(SwapNames.vmDisk(swap)).isEqualTo("db-swap");
    assertThat(SwapNames.volumeHandle(swap)).isEqualTo("swap/vms/db");
    assertThat(SwapNames.labelValue("db")).isEqualTo("db");
    assertThat(SwapNames.serial(swap)).isEqualTo(SwapFixtures.UID.replace("-", "").substring(0, 20));
  }

  @Test
  void longOrDottedNamesBecomeDistinctDnsLabels() {
    String a = "a".repeat(70) + ".one";
    String b = "a".repeat(70) + ".two";
    VmMemorySwap sa = SwapFixtures.swap("vms", a, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi}");
    VmMemorySwap sb = SwapFixtures.swap("vms", b, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi}");
    for (String name : new String[] {SwapNames.vmDisk(sa), SwapNames.vmDisk(sb), SwapNames.labelValue(a)}) {
      assertThat(name).hasSizeLessThanOrEqualTo(63).matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    }
    assertThat(SwapNames.vmDisk(sa)).isNotEqualTo(SwapNames.vmDisk(sb));
    assertThat(SwapNames.labelValue(a)).isNotEqualTo(SwapNames.labelValue(b));
    assertThat(SwapNames.vmDisk(SwapFixtures.swap("vms", "x.y", "{vmName: v, size: 1Gi, memoryLimit: 1Gi}")))
        .isEqualTo("x-y-swap");
  }
}
