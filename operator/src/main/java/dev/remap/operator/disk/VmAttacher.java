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
 * is patched and the disk appears at the VM's next start. Public for the other kinds that put a
 * PVC into a VM (VmMemorySwap), through the methods that take names instead of a VirtualDisk.
 */
public final class VmAttacher {

  private static final int ATTEMPTS = 5;
  private final KubeVirtClient kubevirt;

  public VmAttacher(KubeVirtClient kubevirt) {
    this.kubevirt = kubevirt;
  }

  /** Makes the VM of spec.vm hold the disk; reports where that stands. */
  Vm attach(VirtualDisk disk, String serial) {
    VmAttachment want = disk.getSpec().vm;
    return attach(disk.getMetadata().getNamespace(), want.name, Boolean.TRUE.equals(want.hotplug),
        DiskNames.vmVolume(disk.getMetadata().getName()), DiskNames.pvc(disk), serial,
        want.bus == null ? "virtio" : want.bus.name().toLowerCase());
  }

  /**
   * Makes VM ns/vmName hold the PVC claimName as volume and disk volumeName; hotplugged when
   * hotplug is asked for and the VM runs, else in its spec. Reports where that stands.
   */
  public Vm attach(String ns, String vmName, boolean hotplug, String volumeName, String claimName, String serial,
      String bus) {
    KubernetesClientException last = null;
    // Several disks of one VM patch it concurrently; a patch computed from a VM that changed
    // meanwhile is refused (its resourceVersion test fails), so re-read and recompute.
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        return attachOnce(ns, vmName, hotplug, volumeName, claimName, serial, bus);
      } catch (KubernetesClientException e) {
        if (!isConflict(e)) {
          return new Vm(vmName, VmState.FAILED, e.getMessage());
        }
        last = e;
      } catch (IllegalArgumentException e) {
        return new Vm(vmName, VmState.FAILED, e.getMessage());
      }
    }
    return new Vm(vmName, VmState.FAILED, "the VirtualMachine kept changing while patching it: " + last.getMessage());
  }

  private Vm attachOnce(String ns, String vmName, boolean wantHotplug, String volumeName, String claimName,
      String serial, String bus) {
    Optional<VirtualMachineView> found = getIfServed(ns, vmName);
    if (found.isEmpty()) {
      return new Vm(vmName, kubevirt.installed() ? VmState.NOT_FOUND : VmState.KUBEVIRT_MISSING, null);
    }
    VirtualMachineView vm = found.get();
    boolean hotplug = wantHotplug && vm.running();
    VmVolume volume = new VmVolume(volumeName, claimName, hotplug);
    VmDisk vmDisk = new VmDisk(volume.name(), serial, bus);
    if (vm.has(volume, vmDisk)) {
      return new Vm(vmName, VmState.ATTACHED, restartNote(vm, hotplug));
    }
    if (vm.pendingAdds().contains(volume.name())) {
      // Asked for already: a second addvolume would be refused as a duplicate request.
      return new Vm(vmName, VmState.HOTPLUG_PENDING, null);
    }
    if (!hotplug) {
      kubevirt.patch(vm, VmPatches.attach(vm, volume, vmDisk));
      return new Vm(vmName, VmState.ATTACHED, restartNote(vm, false));
    }
    kubevirt.addVolume(vm, volume, vmDisk);
    // With DeclarativeHotplugVolumes virt-api puts the disk in the spec at once; with
    // HotplugVolumes it leaves a request in the VM's status for virt-controller.
    boolean inSpec = getIfServed(ns, vmName).map(after -> after.has(volume, vmDisk)).orElse(false);
    return new Vm(vmName, inSpec ? VmState.ATTACHED : VmState.HOTPLUG_PENDING, null);
  }

  /** A failed JSON Patch test (422) or an update conflict (409): the VM changed under us. */
  private static boolean isConflict(KubernetesClientException e) {
    return e.getCode() == 409 || e.getCode() == 422;
  }

  /**
   * Removes the disk from a VM's spec (or hot-unplugs it); fine when the VM or KubeVirt is gone.
   *
   * @return empty once the VM's spec no longer holds the disk; otherwise why it still does (a
   *     hotplug or unplug request KubeVirt has not carried out yet), to be asked again later
   */
  Optional<String> detach(VirtualDisk disk, String vmName) {
    return detach(disk.getMetadata().getNamespace(), vmName, DiskNames.vmVolume(disk.getMetadata().getName()),
        disk.getSpec().vm != null && Boolean.TRUE.equals(disk.getSpec().vm.hotplug));
  }

  /** As {@link #detach(VirtualDisk, String)}, for volume volumeName of VM ns/vmName; hotplug as it was attached. */
  public Optional<String> detach(String ns, String vmName, String volumeName, boolean hotplug) {
    for (int attempt = 1; ; attempt++) {
      try {
        return detachOnce(ns, vmName, volumeName, hotplug);
      } catch (KubernetesClientException e) {
        if (!isConflict(e) || attempt >= ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  private Optional<String> detachOnce(String ns, String vmName, String name, boolean hotplug) {
    Optional<VirtualMachineView> found = getIfServed(ns, vmName);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    VirtualMachineView vm = found.get();
    Optional<String> pending = pendingRequest(vm, name);
    if (pending.isPresent() || !vm.mentions(name)) {
      return pending;
    }
    boolean hotplugged = vm.volumeIndex(name) >= 0 && vm.running() && hotplug;
    if (!hotplugged) {
      kubevirt.patch(vm, VmPatches.detach(vm, name));
      return Optional.empty();
    }
    kubevirt.removeVolume(vm, name);
    // As with addvolume: gone from the spec at once, or a request left for virt-controller.
    return getIfServed(ns, vmName).filter(after -> after.mentions(name))
        .map(after -> pendingRequest(after, name).orElse("KubeVirt has not removed it from the VM's spec yet"));
  }

  /** Why the disk cannot leave the VM yet, when KubeVirt still has a hotplug request about it. */
  private static Optional<String> pendingRequest(VirtualMachineView vm, String name) {
    if (vm.pendingRemoves().contains(name)) {
      return Optional.of("VirtualMachine " + vm.name() + " has a hot-unplug request for " + name
          + " that KubeVirt has not carried out yet");
    }
    if (vm.pendingAdds().contains(name)) {
      return Optional.of("VirtualMachine " + vm.name() + " has a hotplug request for " + name
          + " that KubeVirt has not carried out yet; the disk is unplugged once it has");
    }
    return Optional.empty();
  }

  /** The VM, or empty when it or KubeVirt's API is gone. */
  private Optional<VirtualMachineView> getIfServed(String ns, String vmName) {
    try {
      return kubevirt.get(ns, vmName);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private static String restartNote(VirtualMachineView vm, boolean hotplugged) {
    return vm.running() && !hotplugged ? "the running VM sees it after its next restart (spec.vm.hotplug attaches it live)" : null;
  }
}
