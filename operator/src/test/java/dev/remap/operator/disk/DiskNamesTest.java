package dev.remap.operator.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.disk.VmAttachment;
import org.junit.jupiter.api.Test;

class DiskNamesTest {

  @Test
  void theSerialIsTheUsersOrTwentyHexDigitsOfTheUid() {
    var disk = PvcModelTest.disk("data", "1Gi");
    disk.getSpec().vm = new VmAttachment("vm1");
    assertThat(DiskNames.serial(disk)).isEqualTo("0b5e8f1c3f1a4c2b9d7e").hasSize(VmAttachment.MAX_SERIAL)
        .matches(VmAttachment.SERIAL_PATTERN);
    disk.getSpec().vm.serial = "mine";
    assertThat(DiskNames.serial(disk)).isEqualTo("mine");
  }

  @Test
  void vmVolumeNamesAreDnsLabelsEvenForLongDottedDiskNames() {
    assertThat(DiskNames.vmVolume("data")).isEqualTo("remap-data");
    assertThat(DiskNames.vmVolume("a.b")).isEqualTo("remap-a-b");
    String longName = "x".repeat(100) + ".y";
    String label = DiskNames.vmVolume(longName);
    assertThat(label).hasSizeLessThanOrEqualTo(63).matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    assertThat(DiskNames.vmVolume(longName + "z")).isNotEqualTo(label);
  }
}
