package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A snapshot that another VirtualDisk of the namespace lists in its spec.snapshots. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SnapshotSource {
  @Required
  @Size(max = 253)
  @Pattern(Cel.NAME_PATTERN)
  @JsonPropertyDescription("The VirtualDisk the snapshot was taken of.")
  public String virtualDisk;

  @Required
  @Size(max = 63)
  @Pattern(Cel.LABEL_PATTERN)
  @JsonPropertyDescription("The name of the snapshot in that disk's spec.snapshots.")
  public String name;

  public SnapshotSource() {}

  public SnapshotSource(String virtualDisk, String name) {
    this.virtualDisk = virtualDisk;
    this.name = name;
  }
}
