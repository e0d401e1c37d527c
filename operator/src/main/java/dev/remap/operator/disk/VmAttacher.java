package dev.remap.operator.disk;

import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VmAttachment;
import dev.remap.operator.disk.DiskObservation.Vm;
import dev.remap.operator.disk.DiskObservation.VmState;
import dev.remap.operator.kubevirt.KubeVirtClient;
import dev.remap.operator.kubevirt.VirtualMachineView;
import dev.remap.operator.kubevirt.VmDisk;
import dev.remap.operator.kubevirt.VmPatches;
import dev.remap.operator.kubevirt.VmVolume;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Optional;

/**
 * Puts a bound disk into its VirtualMachine's spec and takes it out again. A running VM whose
 * disk asks for hotplug goes through KubeVirt's addvolume subresource; otherwise the VM's spec
 * is patched and the disk appears at the VM's next start.
 */
final class VmAttacher {

  private static final int ATTEMPTS = 5;
  private final KubeVirtClient kubevirt;

  VmAttacher(KubeVirtClient kubevirt) {
    this.kubevirt = kubevirt;
  }

  /** Makes the VM of spec.vm hold the disk; reports where that stands. */
  Vm attach(VirtualDisk disk, String serial) {
    VmAttachment want = disk.getSpec().vm;
    KubernetesClientException last = null;
    // Several disks of one VM patch it concurrently; a patch computed from a VM that changed
    // meanwhile is refused (its resourceVersion test fails), so re-read and recompute.
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        return attachOnce(disk, serial, want);
      } catch (KubernetesClientException e) {
        if (!isConflict(e)) {
          return new Vm(want.name, VmState.FAILED, e.getMessage());
        }
        last = e;
      } catch (IllegalArgumentException e) {
        return new Vm(want.name, VmState.FAILED, e.getMessage());
      }
    }
    return new Vm(want.name, VmState.FAILED, "the VirtualMachine kept changing while patching it: " + last.getMessage());
  }

  private Vm attachOnce(VirtualDisk disk, String serial, VmAttachment want) {
    String ns = disk.getMetadata().getNamespace();
    Optional<VirtualMachineView> found;
    try {
      found = kubevirt.get(ns, want.name);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404 && !kubevirt.installed()) {
        return new Vm(want.name, VmState.KUBEVIRT_MISSING, null);
      }
      throw e;
    }
    if (found.isEmpty()) {
      return new Vm(want.name, kubevirt.installed() ? VmState.NOT_FOUND : VmState.KUBEVIRT_MISSING, null);
    }
    VirtualMachineView vm = found.get();
    boolean hotplug = Boolean.TRUE.equals(want.hotplug) && vm.running();
    VmVolume volume = new VmVolume(DiskNames.vmVolume(disk.getMetadata().getName()), DiskNames.pvc(disk), hotplug);
    VmDisk vmDisk = new VmDisk(volume.name(), serial, want.bus == null ? "virtio" : want.bus.name().toLowerCase());
    if (!vm.has(volume, vmDisk)) {
      if (hotplug) {
        kubevirt.addVolume(vm, volume, vmDisk);
      } else {
        kubevirt.patch(vm, VmPatches.attach(vm, volume, vmDisk));
      }
    }
    return new Vm(want.name, VmState.ATTACHED, restartNote(vm, hotplug));
  }

  /** A failed JSON Patch test (422) or an update conflict (409): the VM changed under us. */
  private static boolean isConflict(KubernetesClientException e) {
    return e.getCode() == 409 || e.getCode() == 422;
  }

  /** Removes the disk from a VM's spec (or hot-unplugs it); fine when the VM or KubeVirt is gone. */
  void detach(VirtualDisk disk, String vmName) {
    for (int attempt = 1; ; attempt++) {
      try {
        detachOnce(disk, vmName);
        return;
      } catch (KubernetesClientException e) {
        if (!isConflict(e) || attempt >= ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  private void detachOnce(VirtualDisk disk, String vmName) {
    Optional<VirtualMachineView> found;
    try {
      found = kubevirt.get(disk.getMetadata().getNamespace(), vmName);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return;
      }
      throw e;
    }
    if (found.isEmpty()) {
      return;
    }
    VirtualMachineView vm = found.get();
    String name = DiskNames.vmVolume(disk.getMetadata().getName());
    boolean hotplugged = vm.volumeIndex(name) >= 0 && vm.running() && disk.getSpec().vm != null
        && Boolean.TRUE.equals(disk.getSpec().vm.hotplug);
    if (hotplugged) {
      kubevirt.removeVolume(vm, name);
    } else {
      kubevirt.patch(vm, VmPatches.detach(vm, name));
    }
  }

  private static String restartNote(VirtualMachineView vm, boolean hotplugged) {
    return vm.running() && !hotplugged ? "the running VM sees it after its next restart (spec.vm.hotplug attaches it live)" : null;
  }
}
