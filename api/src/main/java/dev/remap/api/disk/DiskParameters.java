package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The volume's shape and cache sizes. The operator copies them onto the PVC as annotations
 * ({@code remap.dev/block-size}, ...) that the CSI driver reads at CreateVolume, so one
 * StorageClass serves disks of every shape.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DiskParameters {
  public static final int DEFAULT_BLOCK_SIZE = 4096;
  public static final String DEFAULT_CHUNK_SIZE = "1Mi";

  @Default("4096")
  @ValidationRule(value = Cel.IMMUTABLE, message = "spec.parameters.blockSize is immutable", reason = "FieldValueForbidden")
  @ValidationRule(value = "self == 512 || self == 4096", message = "spec.parameters.blockSize must be 512 or 4096",
      reason = "FieldValueInvalid")
  @JsonPropertyDescription("Logical block size the guest sees: 512 or 4096 (default).")
  public Integer blockSize = DEFAULT_BLOCK_SIZE;

  @Default("\"1Mi\"")
  @ValidationRule(value = Cel.IMMUTABLE, message = "spec.parameters.chunkSize is immutable", reason = "FieldValueForbidden")
  @ValidationRule(value = "isQuantity(self) && quantity(self).isInteger()"
      + " && [65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608, 16777216, 33554432, 67108864]"
      + ".exists(c, quantity(self).asInteger() == c)",
      message = "spec.parameters.chunkSize must be a power of two from 64Ki to 64Mi", reason = "FieldValueInvalid")
  @Size(max = Cel.MAX_QUANTITY)
  @JsonPropertyDescription("Virtual storage unit the mapping table is indexed by: a power of two from 64Ki to 64Mi (default 1Mi).")
  public String chunkSize = DEFAULT_CHUNK_SIZE;

  @ValidationRule(value = Cel.NON_NEGATIVE_BYTES, message = "spec.parameters.ramCacheSize must be a whole number of bytes, 0 or more",
      reason = "FieldValueInvalid")
  @Size(max = Cel.MAX_QUANTITY)
  @JsonPropertyDescription("RAM cache of the node serving the disk (0 turns it off; unset: the driver's default).")
  public String ramCacheSize;

  @ValidationRule(value = Cel.NON_NEGATIVE_BYTES, message = "spec.parameters.diskCacheSize must be a whole number of bytes, 0 or more",
      reason = "FieldValueInvalid")
  @Size(max = Cel.MAX_QUANTITY)
  @JsonPropertyDescription("Local-disk cache of the node serving the disk (0 turns it off; unset: the driver's default).")
  public String diskCacheSize;
}
