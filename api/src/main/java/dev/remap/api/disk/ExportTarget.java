package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import dev.remap.api.common.SecretRef;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** Where to export one of the disk's snapshots (original data plus that snapshot's mapping). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ExportTarget {
  @Required
  @Size(max = 63)
  @Pattern(Cel.LABEL_PATTERN)
  @JsonPropertyDescription("The snapshot to export: one of spec.snapshots.")
  public String snapshot;

  @Required
  @Size(max = 2048)
  @Pattern("^(s3|file)://[^\\s]+$")
  @JsonPropertyDescription("The store and prefix to write to: s3://bucket/prefix or file:///path.")
  public String storeUri;

  @Size(max = 2048)
  @Pattern("^https?://[^\\s]+$")
  @JsonPropertyDescription("S3 endpoint URL when the store is not AWS S3.")
  public String endpoint;

  @JsonPropertyDescription("Secret with the store's credentials.")
  public SecretRef secretRef;
}
