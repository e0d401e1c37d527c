package dev.remap.engine.store;

import java.util.Objects;

/**
 * An access key pair given by the caller (for example read from a Kubernetes Secret) instead of
 * the AWS default chain. toString never shows the secret.
 */
public record S3Credentials(String accessKeyId, String secretAccessKey) {

  public S3Credentials {
    Objects.requireNonNull(accessKeyId, "accessKeyId");
    Objects.requireNonNull(secretAccessKey, "secretAccessKey");
    if (accessKeyId.isBlank() || secretAccessKey.isBlank()) {
      throw new IllegalArgumentException("S3 credentials need both an access key id and a secret access key");
    }
  }

  @Override
  public String toString() {
    return "S3Credentials[accessKeyId=" + accessKeyId + ", secretAccessKey=(hidden)]";
  }
}
