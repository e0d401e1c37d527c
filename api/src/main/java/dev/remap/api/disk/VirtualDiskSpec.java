package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/**
 * What a user asks of a disk. The API server enforces every rule here (OpenAPI + CEL) so that a
 * bad spec is refused at {@code kubectl apply} with a message naming the field, instead of
 * surfacing later as a stuck reconcile.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!isQuantity(self.size) || !quantity(self.size).isInteger()"
    + " || quantity(self.size).asInteger() % self.parameters.blockSize == 0",
    message = "spec.size must be a multiple of the block size, spec.parameters.blockSize (default 4096)",
    fieldPath = ".size", reason = "FieldValueInvalid")
@ValidationRule(value = "!has(self.export) || has(self.snapshots) && self.snapshots.exists(s, s.name == self.export.snapshot)",
    message = "spec.export.snapshot must name one of spec.snapshots",
    fieldPath = ".export.snapshot", reason = "FieldValueInvalid")
@ValidationRule(value = "has(self.source) == has(oldSelf.source)",
    message = "spec.source cannot be added or removed after the disk is created", reason = "FieldValueForbidden")
public class VirtualDiskSpec {

  public enum VolumeMode {
    @JsonProperty("Block") BLOCK,
    @JsonProperty("Filesystem") FILESYSTEM
  }

  public enum AccessMode {
    @JsonProperty("ReadWriteOnce") READ_WRITE_ONCE,
    @JsonProperty("ReadWriteOncePod") READ_WRITE_ONCE_POD,
    @JsonProperty("ReadWriteMany") READ_WRITE_MANY,
    @JsonProperty("ReadOnlyMany") READ_ONLY_MANY
  }

  @Required
  @ValidationRule(value = Cel.POSITIVE_BYTES,
      message = "spec.size must be a positive whole number of bytes: a quantity such as 10Gi",
      reason = "FieldValueInvalid")
  @ValidationRule(value = Cel.DOES_NOT_SHRINK, message = "spec.size can only grow", reason = "FieldValueForbidden")
  @Size(max = Cel.MAX_QUANTITY)
  @JsonPropertyDescription("Size of the disk: a Kubernetes quantity as a string such as 10Gi or \"1073741824\"; a multiple of the block size. Can grow, never shrink.")
  public String size;

  @Default("Block")
  @ValidationRule(value = Cel.IMMUTABLE, message = "spec.volumeMode is immutable", reason = "FieldValueForbidden")
  @JsonPropertyDescription("Block (a raw device for the VM; the default) or Filesystem (KubeVirt uses disk.img in it).")
  public VolumeMode volumeMode = VolumeMode.BLOCK;

  @Default("ReadWriteOnce")
  @ValidationRule(value = Cel.IMMUTABLE, message = "spec.accessMode is immutable", reason = "FieldValueForbidden")
  @JsonPropertyDescription("Access mode of the PVC; live migration needs ReadWriteMany.")
  public AccessMode accessMode = AccessMode.READ_WRITE_ONCE;

  @Default("remap")
  @Size(max = 253)
  @Pattern(Cel.NAME_PATTERN)
  @ValidationRule(value = Cel.IMMUTABLE, message = "spec.storageClassName is immutable", reason = "FieldValueForbidden")
  @JsonPropertyDescription("StorageClass of the PVC; default remap, the class the Helm chart installs.")
  public String storageClassName = "remap";

  @Default("{}")
  @JsonPropertyDescription("Shape and cache sizes of the volume, handed to the CSI driver.")
  public DiskParameters parameters = new DiskParameters();

  @ValidationRule(value = Cel.IMMUTABLE, message = "spec.source is immutable", reason = "FieldValueForbidden")
  @JsonPropertyDescription("Where the disk's first contents come from; leave out for an empty disk.")
  public DiskSource source;

  @JsonPropertyDescription("The KubeVirt VirtualMachine in the same namespace to attach the disk to.")
  public VmAttachment vm;

  @Size(max = 32)
  @ValidationRule(value = "self.all(s, self.exists_one(t, t.name == s.name))",
      message = "spec.snapshots names must be unique", reason = "FieldValueInvalid")
  @JsonPropertyDescription("Snapshots to take; each becomes a CSI VolumeSnapshot named <disk>-<snapshot>.")
  public List<SnapshotRequest> snapshots = new ArrayList<>();

  @JsonPropertyDescription("Exports one of the snapshots to a store, from which another cluster can import it.")
  public ExportTarget export;
}
