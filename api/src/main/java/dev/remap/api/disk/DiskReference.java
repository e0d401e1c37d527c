package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** Another VirtualDisk of the same namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DiskReference {
  @Required
  @Size(max = 253)
  @Pattern(Cel.NAME_PATTERN)
  @JsonPropertyDescription("Name of the VirtualDisk.")
  public String name;

  public DiskReference() {}

  public DiskReference(String name) {
    this.name = name;
  }
}
