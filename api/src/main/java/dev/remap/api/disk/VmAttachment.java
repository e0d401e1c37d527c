package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** How the disk is given to a KubeVirt VirtualMachine. */
@JsonInclude(JsonInclude.Include.NON_NULL)
// KubeVirt hot-plugs disks on the virtio and scsi buses only; its webhook would refuse a sata one.
@ValidationRule(value = "!(has(self.hotplug) && self.hotplug && has(self.bus) && self.bus == 'sata')",
    message = "spec.vm.hotplug needs spec.vm.bus virtio or scsi: KubeVirt cannot hot-plug a sata disk",
    reason = "FieldValueInvalid")
public class VmAttachment {
  /** virtio-blk reports at most 20 bytes of serial to the guest. */
  public static final int MAX_SERIAL = 20;
  public static final String SERIAL_PATTERN = "^[A-Za-z0-9_.+-]+$";

  public enum Bus {
    @JsonProperty("virtio") VIRTIO,
    @JsonProperty("scsi") SCSI,
    @JsonProperty("sata") SATA
  }

  @Required
  @Size(max = 253)
  @Pattern(Cel.NAME_PATTERN)
  @JsonPropertyDescription("Name of the VirtualMachine in the same namespace.")
  public String name;

  @Size(max = MAX_SERIAL)
  @Pattern(SERIAL_PATTERN)
  @JsonPropertyDescription("Disk serial the guest sees (/dev/disk/by-id/virtio-<serial>): at most 20 characters of"
      + " [A-Za-z0-9_.+-]. Unset: derived from the disk's uid (shown in status.serial).")
  public String serial;

  @Default("virtio")
  @JsonPropertyDescription("Disk bus: virtio (default), scsi or sata (not with hotplug).")
  public Bus bus = Bus.VIRTIO;

  @Default("false")
  @JsonPropertyDescription("Attach to a running VM through KubeVirt's addvolume subresource instead of waiting for a restart.")
  public Boolean hotplug = false;

  public VmAttachment() {}

  public VmAttachment(String name) {
    this.name = name;
  }
}
