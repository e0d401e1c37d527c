package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A snapshot the user wants to exist; the operator keeps one VolumeSnapshot per entry. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SnapshotRequest {
  @Required
  @Size(max = 63)
  @Pattern(Cel.LABEL_PATTERN)
  @JsonPropertyDescription("Name of the snapshot, unique within the disk (a DNS label).")
  public String name;

  @Size(max = 253)
  @Pattern(Cel.NAME_PATTERN)
  @JsonPropertyDescription("VolumeSnapshotClass to use; unset: the cluster's default class for the driver.")
  public String volumeSnapshotClassName;

  public SnapshotRequest() {}

  public SnapshotRequest(String name) {
    this.name = name;
  }
}
