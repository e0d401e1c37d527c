package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.SecretRef;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** An exported snapshot in a store: what {@code ./remap export} or spec.export wrote. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ImportSource {
  @Required
  @Size(max = 2048)
  @Pattern("^(s3|file)://[^\\s]+$")
  @JsonPropertyDescription("The store and prefix holding the export: s3://bucket/prefix or file:///path (credentials never go here).")
  public String storeUri;

  @JsonPropertyDescription("S3 endpoint URL when the store is not AWS S3, e.g. a Ceph RGW or MinIO address.")
  @Size(max = 2048)
  @Pattern("^https?://[^\\s]+$")
  public String endpoint;

  @JsonPropertyDescription("Secret with the store's credentials.")
  public SecretRef secretRef;
}
