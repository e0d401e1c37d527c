package dev.remap.operator.transfer;

import dev.remap.engine.store.StoreUri;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The transfer Jobs' configuration, from the operator's settings (application.properties maps
 * each to an environment variable the chart sets): POD_NAMESPACE, REMAP_JOB_IMAGE, REMAP_STORE,
 * REMAP_STORE_SECRET, REMAP_STORE_SECRET_KEYS and REMAP_LOCAL_STORE_PATH.
 */
@ApplicationScoped
public class JobSettings {

  private final JobConfig config;

  public JobSettings(
      @ConfigProperty(name = "remap.operator.namespace") String namespace,
      @ConfigProperty(name = "remap.operator.job-image") String image,
      @ConfigProperty(name = "remap.operator.store") Optional<String> store,
      @ConfigProperty(name = "remap.operator.store-secret") Optional<String> storeSecret,
      @ConfigProperty(name = "remap.operator.store-secret-keys") List<String> keys,
      @ConfigProperty(name = "remap.operator.local-store-path") Optional<String> localStorePath) {
    Optional<String> uri = store.filter(s -> !s.isBlank());
    // A file store's directory is where the URI says unless the chart says otherwise.
    Optional<String> local = localStorePath.filter(s -> !s.isBlank()).or(() -> uri
        .map(StoreUri::parse).filter(StoreUri.File.class::isInstance).map(f -> ((StoreUri.File) f).root().toString()));
    if (keys.size() != 2) {
      throw new IllegalArgumentException("remap.operator.store-secret-keys (REMAP_STORE_SECRET_KEYS) must name two keys, "
          + "the access key id's and the secret access key's, e.g. accessKeyId,secretAccessKey");
    }
    this.config = new JobConfig(namespace, image, uri.orElse(null), storeSecret.filter(s -> !s.isBlank()).orElse(null),
        keys.get(0).strip(), keys.get(1).strip(), local.orElse(null));
  }

  public JobConfig config() {
    return config;
  }
}
