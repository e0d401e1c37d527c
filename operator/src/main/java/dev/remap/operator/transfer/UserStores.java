package dev.remap.operator.transfer;

import dev.remap.api.common.SecretRef;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.store.StoreUri;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The stores users name in their specs (spec.export, spec.source.import): a URI, an S3 endpoint
 * given apart from it, and a Secret in the resource's namespace with the keys accessKeyId and
 * secretAccessKey (without one, the AWS environment's credentials). Credentials are never logged.
 */
final class UserStores {

  private UserStores() {}

  static ObjectStore open(KubernetesClient client, String namespace, String storeUri, String endpoint,
      SecretRef secretRef, String field) throws IOException {
    String uri = storeUri;
    if (endpoint != null && uri.startsWith("s3://")) {
      uri += (uri.contains("?") ? "&" : "?") + "endpoint=" + URLEncoder.encode(endpoint, StandardCharsets.UTF_8);
    }
    S3Credentials credentials = null;
    if (secretRef != null) {
      Secret secret = client.secrets().inNamespace(namespace).withName(secretRef.name).get();
      if (secret == null) {
        throw new IllegalStateException("Secret " + secretRef.name + " (" + field + ".secretRef) does not exist in "
            + "namespace " + namespace);
      }
      credentials = new S3Credentials(key(secret, "accessKeyId", field), key(secret, "secretAccessKey", field));
    }
    return ObjectStores.open(StoreUri.parse(uri), credentials);
  }

  private static String key(Secret secret, String key, String field) {
    String value = secret.getData() == null ? null : secret.getData().get(key);
    if (value == null) {
      throw new IllegalStateException("Secret " + secret.getMetadata().getName() + " (" + field + ".secretRef) has no key "
          + key);
    }
    return new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
  }
}
