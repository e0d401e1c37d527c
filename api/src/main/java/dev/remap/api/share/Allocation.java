package dev.remap.api.share;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.ArrayList;
import java.util.List;

/** A rule giving some logical disks to some VMs. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.vmSelector) != has(self.vmNames)",
    message = "each spec.allocation entry must set exactly one of vmSelector or vmNames", reason = "FieldValueInvalid")
public class Allocation {
  @JsonPropertyDescription("Selects VirtualMachines of the namespace by label.")
  public LabelSelector vmSelector;

  @Size(min = 1, max = 64)
  @JsonPropertyDescription("Names of VirtualMachines of the namespace.")
  public List<@Size(max = 253) String> vmNames;

  @Required
  @Size(min = 1, max = 64)
  @JsonPropertyDescription("Groups of spec.split to give them: 'all' for single, a folder name for byFolder, a data type for byDataType.")
  public List<@Size(max = 63) String> disks = new ArrayList<>();
}
