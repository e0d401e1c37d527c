package dev.remap.api.common;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What every Remap status has: the generation last acted on and the standard conditions. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public abstract class StatusBase {
  @JsonPropertyDescription("The metadata.generation of the spec this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription("Ready, Progressing and Degraded, each with the observedGeneration it was computed for.")
  public List<Condition> conditions = new ArrayList<>();
}
