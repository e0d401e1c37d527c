package dev.remap.cli;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.store.StoreUri;
import java.io.IOException;
import java.util.Map;

/**
 * S3 credentials for one of the two stores of a transfer, from environment variables named
 * after its role: {@code REMAP_STORE_*} for --store, {@code REMAP_TO_*} for export's --to,
 * {@code REMAP_FROM_*} for import's --from ({@code _ACCESS_KEY_ID}, {@code _SECRET_ACCESS_KEY}).
 * Unset: the AWS default chain, as every other command. Why not AWS_* for both: a transfer
 * touches two stores with different owners (Remap's store, a user's bucket), and one set of
 * variables would send one owner's credentials to the other's endpoint. Never in arguments,
 * which `ps` and a pod's spec show.
 */
final class EnvCredentials {

  static final String STORE = "REMAP_STORE";
  static final String TO = "REMAP_TO";
  static final String FROM = "REMAP_FROM";

  private EnvCredentials() {}

  static ObjectStore open(String uri, String role, Map<String, String> env) throws IOException {
    String id = env.get(role + "_ACCESS_KEY_ID");
    String secret = env.get(role + "_SECRET_ACCESS_KEY");
    if ((id == null) != (secret == null)) {
      throw new IllegalArgumentException(role + "_ACCESS_KEY_ID and " + role + "_SECRET_ACCESS_KEY go together: set both or neither");
    }
    return ObjectStores.open(StoreUri.parse(uri), id == null ? null : new S3Credentials(id, secret));
  }
}
