package dev.remap.operator.kubevirt;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Bodies of KubeVirt's VM subresources {@code addvolume} and {@code removevolume}
 * (subresources.kubevirt.io/v1 AddVolumeOptions and RemoveVolumeOptions), used to attach a disk
 * to a running VM without a restart. Pure.
 */
public final class HotplugRequests {

  private HotplugRequests() {}

  /** AddVolumeOptions: {name, disk, volumeSource: {persistentVolumeClaim: {claimName, hotpluggable: true}}}. */
  public static Map<String, Object> addVolume(VmVolume volume, VmDisk disk) {
    Map<String, Object> pvc = new LinkedHashMap<>();
    pvc.put("claimName", volume.claimName());
    pvc.put("hotpluggable", true);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("name", volume.name());
    body.put("disk", disk.toMap());
    body.put("volumeSource", Map.of("persistentVolumeClaim", pvc));
    return body;
  }

  /** RemoveVolumeOptions: {name}. */
  public static Map<String, Object> removeVolume(String name) {
    return Map.of("name", name);
  }
}
