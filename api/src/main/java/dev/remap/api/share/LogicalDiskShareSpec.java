package dev.remap.api.share;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** What a user asks of a share: which cloud prefix, how to split it, which VMs get which disks. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!self.readOnly || self.sync.direction == 'pull'",
    message = "spec.sync.direction must be pull when spec.readOnly is true", fieldPath = ".sync.direction",
    reason = "FieldValueInvalid")
@ValidationRule(value = "self.allocation.all(a, a.disks.all(d, d == 'all' || self.split.mode == 'byFolder'"
    + " || (self.split.mode == 'byDataType' && ((has(self.split.dataTypes) && self.split.dataTypes.exists(t, t.name == d))"
    + " || (has(self.split.others) && self.split.others == d)))))",
    message = "spec.allocation[].disks must be 'all' or groups of spec.split: folder names for byFolder,"
        + " data type names or spec.split.others for byDataType",
    fieldPath = ".allocation", reason = "FieldValueInvalid")
public class LogicalDiskShareSpec {

  public enum Filesystem {
    @JsonProperty("vfat") VFAT,
    @JsonProperty("ext4") EXT4
  }

  @Required
  @JsonPropertyDescription("The cloud disk: an S3-compatible bucket and prefix.")
  public CloudSource cloud;

  @Default("{}")
  @JsonPropertyDescription("How files become logical disks: one disk, one per top-level folder, or one per data type.")
  public SplitRule split = new SplitRule();

  @Default("ext4")
  @JsonPropertyDescription("Filesystem of each logical disk: ext4 (default) or vfat.")
  public Filesystem filesystem = Filesystem.EXT4;

  @Required
  @Size(min = 1, max = 64)
  @JsonPropertyDescription("Which VMs get which disks.")
  public List<Allocation> allocation = new ArrayList<>();

  @Default("\"1Gi\"")
  @ValidationRule(value = Cel.NON_NEGATIVE_BYTES,
      message = "spec.freeSpace must be a whole number of bytes: a quantity such as 1Gi", reason = "FieldValueInvalid")
  @Size(max = Cel.MAX_QUANTITY)
  @JsonPropertyDescription("Room each disk leaves for the VMs' new files, beyond what the cloud's files take (default"
      + " 1Gi; disks are thin: unused room costs nothing).")
  public String freeSpace = "1Gi";

  @Default("{}")
  @JsonPropertyDescription("How changes flow between the cloud disk and the VMs.")
  public SyncPolicy sync = new SyncPolicy();

  @Default("false")
  @JsonPropertyDescription("Give the disks to VMs read-only; then sync.direction must be pull.")
  public Boolean readOnly = false;
}
