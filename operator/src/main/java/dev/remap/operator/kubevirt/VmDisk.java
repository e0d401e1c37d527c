package dev.remap.operator.kubevirt;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A disk device of a VirtualMachine's domain (kubevirt.io/v1 {@code Disk}: name, serial,
 * disk.bus). The serial is what the guest sees under /dev/disk/by-id.
 */
public record VmDisk(String name, String serial, String bus) {

  public Map<String, Object> toMap() {
    Map<String, Object> disk = new LinkedHashMap<>();
    disk.put("name", name);
    if (serial != null) {
      disk.put("serial", serial);
    }
    disk.put("disk", Map.of("bus", bus));
    return disk;
  }
}
