package dev.remap.operator.kubevirt;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A volume of a VirtualMachine's template backed by a PVC: the only volume kind Remap writes.
 * Mirrors KubeVirt's {@code Volume} with a {@code persistentVolumeClaim} source
 * (kubevirt.io/v1: name, persistentVolumeClaim.claimName, persistentVolumeClaim.hotpluggable).
 */
public record VmVolume(String name, String claimName, boolean hotpluggable) {

  /** The JSON object KubeVirt expects, as a map for a JSON Patch value. */
  public Map<String, Object> toMap() {
    Map<String, Object> pvc = new LinkedHashMap<>();
    pvc.put("claimName", claimName);
    if (hotpluggable) {
      pvc.put("hotpluggable", true);
    }
    Map<String, Object> volume = new LinkedHashMap<>();
    volume.put("name", name);
    volume.put("persistentVolumeClaim", pvc);
    return volume;
  }
}
