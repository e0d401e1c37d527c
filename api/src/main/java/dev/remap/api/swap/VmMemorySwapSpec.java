package dev.remap.api.swap;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** The swap disk's size, the memory pool's cap, and where pages spill when the pool is full. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!isQuantity(self.size) || !quantity(self.size).isInteger()"
    + " || quantity(self.size).asInteger() % 4096 == 0",
    message = "spec.size must be a multiple of the 4096-byte page size", fieldPath = ".size", reason = "FieldValueInvalid")
@ValidationRule(value = "has(self.spill) || !isQuantity(self.size) || !isQuantity(self.memoryLimit)"
    + " || quantity(self.size).compareTo(quantity(self.memoryLimit)) <= 0",
    message = "spec.size is larger than spec.memoryLimit: give spec.spill for the pages that do not fit in memory",
    fieldPath = ".spill", reason = "FieldValueRequired")
public class VmMemorySwapSpec {
  @Required
  @Size(max = 253)
  @Pattern(Cel.NAME_PATTERN)
  @JsonPropertyDescription("The KubeVirt VirtualMachine in the same namespace that gets the swap disk.")
  public String vmName;

  @Required
  @ValidationRule(value = Cel.POSITIVE_BYTES,
      message = "spec.size must be a positive whole number of bytes: a quantity such as 4Gi",
      reason = "FieldValueInvalid")
  @Size(max = Cel.MAX_QUANTITY)
  @JsonPropertyDescription("Size of the swap disk the guest sees; a multiple of 4096.")
  public String size;

  @Required
  @ValidationRule(value = Cel.POSITIVE_BYTES,
      message = "spec.memoryLimit must be a positive whole number of bytes: a quantity such as 1Gi",
      reason = "FieldValueInvalid")
  @Size(max = Cel.MAX_QUANTITY)
  @JsonPropertyDescription("Cap of the host memory pool that holds swapped-out pages.")
  public String memoryLimit;

  @JsonPropertyDescription("Slower tier for pages that do not fit under memoryLimit.")
  public SpillTier spill;

  @Default("true")
  @JsonPropertyDescription("Release pages the guest discards (TRIM); default true.")
  public Boolean discard = true;

  /** A local file on the node that receives pages evicted from the memory pool. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SpillTier {
    @Required
    @ValidationRule(value = Cel.POSITIVE_BYTES,
        message = "spec.spill.size must be a positive whole number of bytes: a quantity such as 8Gi",
        reason = "FieldValueInvalid")
    @Size(max = Cel.MAX_QUANTITY)
    @JsonPropertyDescription("Capacity of the spill tier.")
    public String size;

    @Default("\"/var/lib/remap/swap\"")
    @Size(max = 4096)
    @Pattern("^/[^\\s]*$")
    @JsonPropertyDescription("Absolute directory on the node for the spill files (default /var/lib/remap/swap).")
    public String location = "/var/lib/remap/swap";
  }
}
