package dev.remap.api.share;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** How the files of the cloud disk are grouped into logical disks. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "(self.mode == 'byDataType') == (has(self.dataTypes) && size(self.dataTypes) > 0)",
    message = "spec.split.dataTypes must be given when, and only when, spec.split.mode is byDataType",
    fieldPath = ".dataTypes", reason = "FieldValueInvalid")
public class SplitRule {

  public enum Mode {
    @JsonProperty("single") SINGLE,
    @JsonProperty("byFolder") BY_FOLDER,
    @JsonProperty("byDataType") BY_DATA_TYPE
  }

  @Default("single")
  @JsonPropertyDescription("single (one disk, group 'all'), byFolder (one per top-level folder, named after it) or byDataType.")
  public Mode mode = Mode.SINGLE;

  @Default("\"other\"")
  @Size(max = 63)
  @Pattern("^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$")
  @JsonPropertyDescription("The group (disk) of the files no other group takes: root files for byFolder, files of no"
      + " listed type for byDataType; default other. Empty: such files stay in the cloud only (status lists them).")
  public String others = "other";

  @Size(max = 32)
  @ValidationRule(value = "self.all(t, self.exists_one(u, u.name == t.name))",
      message = "spec.split.dataTypes names must be unique", reason = "FieldValueInvalid")
  @JsonPropertyDescription("For byDataType: each data type (a group name) and the file extensions that belong to it.")
  public List<DataType> dataTypes;

  /** A named group of file extensions. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class DataType {
    @Required
    @Size(max = 63)
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    @JsonPropertyDescription("Group name, a DNS label; allocation[].disks refers to it.")
    public String name;

    @Required
    @Size(min = 1, max = 64)
    @ValidationRule(value = "self.all(e, e.matches('^[A-Za-z0-9_+-]{1,16}$'))",
        message = "spec.split.dataTypes[].extensions must be 1 to 16 characters of [A-Za-z0-9_+-], without the dot",
        reason = "FieldValueInvalid")
    @JsonPropertyDescription("File extensions without the dot, e.g. [jpg, png].")
    public List<@Size(max = 16) String> extensions = new ArrayList<>();
  }
}
