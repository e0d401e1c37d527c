package dev.remap.api.common;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A Secret in the resource's own namespace that holds store credentials (never logged). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SecretRef {
  @Required
  @Size(max = 253)
  @Pattern(Cel.NAME_PATTERN)
  @JsonPropertyDescription("Name of a Secret in the same namespace with the keys accessKeyId and secretAccessKey.")
  public String name;

  public SecretRef() {}

  public SecretRef(String name) {
    this.name = name;
  }
}
