package dev.remap.operator.kubevirt;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The few fields of a KubeVirt VirtualMachine that Remap reads, taken from the object as the API
 * server returned it. The object itself is never rewritten from this view: changes are JSON
 * Patches against the paths below, so fields this model does not know survive untouched.
 *
 * @param volumes spec.template.spec.volumes, in order, with {@code null} entries for volumes
 *     that are not PVC-backed (their index still matters for patches)
 * @param disks spec.template.spec.domain.devices.disks, in order
 * @param pendingAdds names of volumes in status.volumeRequests still to be hot-plugged: with
 *     KubeVirt's HotplugVolumes gate, addvolume leaves its request there and virt-controller
 *     moves it into the spec later
 * @param pendingRemoves names of volumes in status.volumeRequests still to be hot-unplugged
 */
public record VirtualMachineView(
    String namespace, String name, String resourceVersion, boolean hasVolumes, boolean hasDevices,
    boolean hasDisks, List<Entry> volumes, List<VmDisk> disks, boolean running,
    Set<String> pendingAdds, Set<String> pendingRemoves) {

  /** One entry of the volumes list: its name and, when it is PVC-backed, the claim. */
  public record Entry(String name, String claimName) {}

  public static VirtualMachineView of(GenericKubernetesResource vm) {
    Map<String, Object> additional = vm.getAdditionalProperties();
    Map<String, Object> spec = map(additional.get("spec"));
    Map<String, Object> template = map(spec.get("template"));
    Map<String, Object> templateSpec = map(template.get("spec"));
    Map<String, Object> domain = map(templateSpec.get("domain"));
    Map<String, Object> devices = map(domain.get("devices"));
    List<Entry> volumes = new ArrayList<>();
    for (Object o : list(templateSpec.get("volumes"))) {
      Map<String, Object> v = map(o);
      volumes.add(new Entry(string(v.get("name")), string(map(v.get("persistentVolumeClaim")).get("claimName"))));
    }
    List<VmDisk> disks = new ArrayList<>();
    for (Object o : list(devices.get("disks"))) {
      Map<String, Object> d = map(o);
      disks.add(new VmDisk(string(d.get("name")), string(d.get("serial")), string(map(d.get("disk")).get("bus"))));
    }
    Map<String, Object> status = map(additional.get("status"));
    // KubeVirt reports a running guest as status.ready (and printableStatus "Running").
    boolean running = Boolean.TRUE.equals(status.get("ready")) || "Running".equals(status.get("printableStatus"));
    Set<String> pendingAdds = new LinkedHashSet<>();
    Set<String> pendingRemoves = new LinkedHashSet<>();
    for (Object o : list(status.get("volumeRequests"))) {
      Map<String, Object> request = map(o);
      Optional.ofNullable(string(map(request.get("addVolumeOptions")).get("name"))).ifPresent(pendingAdds::add);
      Optional.ofNullable(string(map(request.get("removeVolumeOptions")).get("name"))).ifPresent(pendingRemoves::add);
    }
    return new VirtualMachineView(vm.getMetadata().getNamespace(), vm.getMetadata().getName(),
        vm.getMetadata().getResourceVersion(), templateSpec.containsKey("volumes"), domain.containsKey("devices"),
        devices.containsKey("disks"), List.copyOf(volumes), List.copyOf(disks), running,
        Set.copyOf(pendingAdds), Set.copyOf(pendingRemoves));
  }

  public int volumeIndex(String volumeName) {
    for (int i = 0; i < volumes.size(); i++) {
      if (volumeName.equals(volumes.get(i).name())) {
        return i;
      }
    }
    return -1;
  }

  public int diskIndex(String diskName) {
    for (int i = 0; i < disks.size(); i++) {
      if (diskName.equals(disks.get(i).name())) {
        return i;
      }
    }
    return -1;
  }

  public Optional<VmDisk> disk(String diskName) {
    int i = diskIndex(diskName);
    return i < 0 ? Optional.empty() : Optional.of(disks.get(i));
  }

  /** Whether the VM's spec holds a volume or a disk of that name. */
  public boolean mentions(String volumeName) {
    return volumeIndex(volumeName) >= 0 || diskIndex(volumeName) >= 0;
  }

  /** Whether the VM's spec already has exactly this volume and disk. */
  public boolean has(VmVolume volume, VmDisk disk) {
    int v = volumeIndex(volume.name());
    return v >= 0 && volume.claimName().equals(volumes.get(v).claimName())
        && disk(disk.name()).filter(d -> d.equals(disk)).isPresent();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  private static List<?> list(Object o) {
    return o instanceof List<?> l ? l : List.of();
  }

  private static String string(Object o) {
    return o == null ? null : o.toString();
  }
}
