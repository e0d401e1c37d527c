package dev.remap.api.share;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.SecretRef;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** An S3-compatible bucket and prefix holding the files to share. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CloudSource {
  @Size(max = 2048)
  @Pattern("^https?://[^\\s]+$")
  @JsonPropertyDescription("S3 endpoint URL; unset: AWS S3.")
  public String endpoint;

  @Required
  @Size(min = 3, max = 63)
  @Pattern("^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
  @JsonPropertyDescription("Bucket name (3 to 63 characters of a-z, 0-9, '.' and '-').")
  public String bucket;

  @Size(max = 1024)
  @JsonPropertyDescription("Key prefix of the files; unset: the whole bucket.")
  public String prefix;

  @Size(max = 64)
  @JsonPropertyDescription("Region of the bucket, when the store needs one.")
  public String region;

  @Required
  @JsonPropertyDescription("Secret with the store's credentials.")
  public SecretRef secretRef;
}
