package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Exactly one origin of a disk's first contents; no source at all means an empty disk. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@io.fabric8.generator.annotation.ValidationRule(
    value = "[has(self.snapshot), has(self.virtualDisk), has(self.__import__)].filter(x, x).size() == 1",
    message = "spec.source must set exactly one of snapshot, virtualDisk or import (leave spec.source out for an empty disk)",
    reason = "FieldValueInvalid")
public class DiskSource {
  @JsonPropertyDescription("A snapshot (from spec.snapshots) of another VirtualDisk in this namespace.")
  public SnapshotSource snapshot;

  @JsonPropertyDescription("Another VirtualDisk in this namespace to clone.")
  public DiskReference virtualDisk;

  @JsonProperty("import")
  @JsonPropertyDescription("A snapshot exported to a store (spec.export of a disk, possibly in another cluster).")
  public ImportSource importFrom;

  public static DiskSource ofSnapshot(String disk, String snapshot) {
    DiskSource s = new DiskSource();
    s.snapshot = new SnapshotSource(disk, snapshot);
    return s;
  }

  public static DiskSource ofDisk(String disk) {
    DiskSource s = new DiskSource();
    s.virtualDisk = new DiskReference(disk);
    return s;
  }
}
