package dev.remap.operator.kubevirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VmPatchesTest {

  static VirtualMachineView vm(String yaml) {
    return VirtualMachineView.of(Serialization.unmarshal(yaml, GenericKubernetesResource.class));
  }

  static final String VM = """
      apiVersion: kubevirt.io/v1
      kind: VirtualMachine
      metadata: {name: vm1, namespace: ns1, resourceVersion: "42"}
      spec:
        runStrategy: Always
        template:
          spec:
            domain:
              devices:
                disks: [{name: root, disk: {bus: virtio}, bootOrder: 1}]
            volumes: [{name: root, containerDisk: {image: example/root}}]
      status: {ready: true, printableStatus: Running}
      """;

  static final VmVolume VOLUME = new VmVolume("remap-data", "data", false);
  static final VmDisk DISK = new VmDisk("remap-data", "0b5e8f1c3f1a4c2b9d7e", "virtio");

  @Test
  void theViewReadsVolumesDisksAndRunningState() {
    VirtualMachineView v = vm(VM);
    assertThat(v.resourceVersion()).isEqualTo("42");
    assertThat(v.volumes()).containsExactly(new VirtualMachineView.Entry("root", null));
    assertThat(v.disks()).containsExactly(new VmDisk("root", null, "virtio"));
    assertThat(v.running()).isTrue();
    assertThat(v.has(VOLUME, DISK)).isFalse();
  }

  @Test
  void theViewReadsHotplugRequestsKubeVirtHasNotCarriedOutYet() {
    VirtualMachineView v = vm(VM.replace("status: {ready: true, printableStatus: Running}", """
        status:
          ready: true
          volumeRequests:
          - addVolumeOptions: {name: remap-data, disk: {name: remap-data, disk: {bus: scsi}}, volumeSource: {}}
          - removeVolumeOptions: {name: remap-old}
        """));
    assertThat(v.pendingAdds()).containsExactly("remap-data");
    assertThat(v.pendingRemoves()).containsExactly("remap-old");
    assertThat(v.mentions("root")).isTrue();
    assertThat(v.mentions("remap-data")).as("a request is not yet the spec").isFalse();
    assertThat(vm(VM).pendingAdds()).isEmpty();
  }

  @Test
  void attachAppendsAfterATestOfTheResourceVersion() {
    List<Map<String, Object>> ops = VmPatches.attach(vm(VM), VOLUME, DISK);
    assertThat(Serialization.asJson(ops)).isEqualTo("[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"42\"},"
        + "{\"op\":\"add\",\"path\":\"/spec/template/spec/volumes/-\",\"value\":{\"name\":\"remap-data\","
        + "\"persistentVolumeClaim\":{\"claimName\":\"data\"}}},"
        + "{\"op\":\"add\",\"path\":\"/spec/template/spec/domain/devices/disks/-\",\"value\":{\"name\":\"remap-data\","
        + "\"serial\":\"0b5e8f1c3f1a4c2b9d7e\",\"disk\":{\"bus\":\"virtio\"}}}]");
  }

  @Test
  void attachCreatesMissingListsAndReplacesStaleEntries() {
    VirtualMachineView empty = vm("""
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: vm1, namespace: ns1, resourceVersion: "7"}
        spec: {template: {spec: {domain: {devices: {}}}}}
        """);
    assertThat(Serialization.asJson(VmPatches.attach(empty, VOLUME, DISK)))
        .contains("\"op\":\"add\",\"path\":\"/spec/template/spec/volumes\",\"value\":[{")
        .contains("\"op\":\"add\",\"path\":\"/spec/template/spec/domain/devices/disks\",\"value\":[{");
    VirtualMachineView stale = vm(VM.replace("volumes: [{name: root", "volumes: [{name: remap-data, persistentVolumeClaim: {claimName: old}}, {name: root"));
    assertThat(Serialization.asJson(VmPatches.attach(stale, VOLUME, DISK)))
        .contains("\"op\":\"replace\",\"path\":\"/spec/template/spec/volumes/0\"");
  }

  @Test
  void aVmWithoutDevicesIsRefusedWithAClearMessage() {
    VirtualMachineView broken = vm("""
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: vm1, namespace: ns1, resourceVersion: "7"}
        spec: {template: {spec: {}}}
        """);
    assertThatThrownBy(() -> VmPatches.attach(broken, VOLUME, DISK))
        .hasMessageContaining("VirtualMachine vm1 has no spec.template.spec.domain.devices");
  }

  @Test
  void detachRemovesByIndexAndIsEmptyWhenNothingIsThere() {
    VirtualMachineView attached = vm(VM
        .replace("disks: [{name: root", "disks: [{name: remap-data, serial: s, disk: {bus: virtio}}, {name: root")
        .replace("volumes: [{name: root", "volumes: [{name: other, emptyDisk: {}}, {name: remap-data, persistentVolumeClaim: {claimName: data}}, {name: root"));
    assertThat(Serialization.asJson(VmPatches.detach(attached, "remap-data")))
        .isEqualTo("[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"42\"},"
            + "{\"op\":\"remove\",\"path\":\"/spec/template/spec/volumes/1\"},"
            + "{\"op\":\"remove\",\"path\":\"/spec/template/spec/domain/devices/disks/0\"}]");
    assertThat(VmPatches.detach(vm(VM), "remap-data")).isEmpty();
  }

  @Test
  void hotplugBodiesFollowKubeVirtsAddAndRemoveVolumeOptions() {
    assertThat(Serialization.asJson(HotplugRequests.addVolume(VOLUME, new VmDisk("remap-data", "s1", "scsi"))))
        .isEqualTo("{\"name\":\"remap-data\",\"disk\":{\"name\":\"remap-data\",\"serial\":\"s1\",\"disk\":{\"bus\":\"scsi\"}},"
            + "\"volumeSource\":{\"persistentVolumeClaim\":{\"claimName\":\"data\",\"hotpluggable\":true}}}");
    assertThat(Serialization.asJson(HotplugRequests.removeVolume("remap-data"))).isEqualTo("{\"name\":\"remap-data\"}");
  }
}
