package dev.remap.operator.kubevirt;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON Patches (RFC 6902) that add or remove one Remap disk in a VirtualMachine's spec. Every
 * patch starts with a {@code test} of the resourceVersion it was computed from, so a VM changed
 * by someone else in between is never patched at stale list indexes: the API server refuses the
 * patch and the next reconcile recomputes it. Pure: no I/O.
 */
public final class VmPatches {

  private static final String TEMPLATE_SPEC = "/spec/template/spec";
  private static final String VOLUMES = TEMPLATE_SPEC + "/volumes";
  private static final String DEVICES = TEMPLATE_SPEC + "/domain/devices";
  private static final String DISKS = DEVICES + "/disks";

  private VmPatches() {}

  /** Ops that make the VM's spec hold exactly this volume and disk (replacing stale ones of the same names). */
  public static List<Map<String, Object>> attach(VirtualMachineView vm, VmVolume volume, VmDisk disk) {
    List<Map<String, Object>> ops = new ArrayList<>();
    ops.add(op("test", "/metadata/resourceVersion", vm.resourceVersion()));
    int v = vm.volumeIndex(volume.name());
    if (v >= 0) {
      ops.add(op("replace", VOLUMES + "/" + v, volume.toMap()));
    } else if (vm.hasVolumes()) {
      ops.add(op("add", VOLUMES + "/-", volume.toMap()));
    } else {
      ops.add(op("add", VOLUMES, List.of(volume.toMap())));
    }
    int d = vm.diskIndex(disk.name());
    if (d >= 0) {
      ops.add(op("replace", DISKS + "/" + d, disk.toMap()));
    } else if (vm.hasDisks()) {
      ops.add(op("add", DISKS + "/-", disk.toMap()));
    } else if (vm.hasDevices()) {
      ops.add(op("add", DISKS, List.of(disk.toMap())));
    } else {
      // A VM without spec.template.spec.domain.devices is not valid KubeVirt; refuse to guess.
      throw new IllegalArgumentException("VirtualMachine " + vm.name()
          + " has no spec.template.spec.domain.devices; cannot add a disk to it");
    }
    return ops;
  }

  /** Ops that remove the volume and disk of that name; empty when neither is there. */
  public static List<Map<String, Object>> detach(VirtualMachineView vm, String name) {
    List<Map<String, Object>> ops = new ArrayList<>();
    int v = vm.volumeIndex(name);
    int d = vm.diskIndex(name);
    if (v < 0 && d < 0) {
      return ops;
    }
    ops.add(op("test", "/metadata/resourceVersion", vm.resourceVersion()));
    if (v >= 0) {
      ops.add(op("remove", VOLUMES + "/" + v, null));
    }
    if (d >= 0) {
      ops.add(op("remove", DISKS + "/" + d, null));
    }
    return ops;
  }

  private static Map<String, Object> op(String op, String path, Object value) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("op", op);
    m.put("path", path);
    if (value != null) {
      m.put("value", value);
    }
    return m;
  }
}
