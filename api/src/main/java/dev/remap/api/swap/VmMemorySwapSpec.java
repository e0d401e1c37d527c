package dev.remap.api.swap;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The swap disk's size, the memory pool's cap, where pages spill when the pool is full, and how
 * the disk is presented to the guest.
 *
 * <p>The whole spec is immutable: it travels to the node as the attributes of a static
 * PersistentVolume, which Kubernetes never lets change, and a swap disk holds nothing worth
 * keeping, so a different swap is a new VmMemorySwap.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!isQuantity(self.size) || !quantity(self.size).isInteger()"
    + " || quantity(self.size).asInteger() % 4096 == 0",
    message = "spec.size must be a multiple of the 4096-byte page size", fieldPath = ".size", reason = "FieldValueInvalid")
@ValidationRule(value = "has(self.spill) || !isQuantity(self.size) || !isQuantity(self.memoryLimit)"
    + " || quantity(self.size).compareTo(quantity(self.memoryLimit)) <= 0",
    message = "spec.size is larger than spec.memoryLimit: give spec.spill for the pages that do not fit in memory",
    fieldPath = ".spill", reason = "FieldValueRequired")
@ValidationRule(value = "!has(self.label) || !has(self.format) || self.format != 'none'",
    message = "spec.label is only for spec.format swap: with format none the disk has no swap signature to carry it",
    fieldPath = ".label", reason = "FieldValueForbidden")
@ValidationRule(value = Cel.IMMUTABLE,
    message = "spec of a VmMemorySwap is immutable (it is its PersistentVolume's attributes): delete it and create"
        + " a new one; a swap disk holds no data to keep",
    reason = "FieldValueForbidden")
public class VmMemorySwapSpec {

  /** The label the guest's {@code swapon LABEL=...} finds when spec.label is not given. */
  public static final String DEFAULT_LABEL = "remap-swap";
  /** The longest label a Linux swap signature holds (bytes). */
  public static final int MAX_LABEL_BYTES = 16;

  /** What the guest finds on the disk at first: a ready swap signature, or zeros. */
  public enum Format {
    /** A valid Linux swap signature with spec.label: the guest only runs {@code swapon LABEL=...}. */
    @JsonProperty("swap") SWAP,
    /** All zeros: the guest runs mkswap itself. */
    @JsonProperty("none") NONE
  }

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

  @Default("swap")
  @JsonPropertyDescription("swap (the default): the disk starts with a Linux swap signature carrying spec.label, so"
      + " the guest only runs swapon LABEL=...; none: the disk starts as zeros and the guest runs mkswap.")
  public Format format = Format.SWAP;

  // No structural default: a default would be filled in with format none too, where a label is refused.
  @Size(min = 1, max = MAX_LABEL_BYTES)
  @Pattern("^\\S+$")
  @ValidationRule(value = "size(bytes(self)) <= 16",
      message = "spec.label must be at most 16 bytes (a swap signature's label field)", reason = "FieldValueInvalid")
  @JsonPropertyDescription("Label of the swap signature, 1 to 16 bytes without spaces; default remap-swap."
      + " Only with format swap.")
  public String label;

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
