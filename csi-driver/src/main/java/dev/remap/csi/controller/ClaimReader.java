package dev.remap.csi.controller;

import dev.remap.csi.server.Rpc;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a PVC's annotations from the Kubernetes API (one GET; the controller's ServiceAccount
 * needs {@code get} on persistentvolumeclaims and nothing else). Configured like kubectl: a
 * kubeconfig (--kubeconfig, else $KUBECONFIG) or the in-cluster ServiceAccount; fabric8's Config
 * reads either, and the JDK's HTTP client does the request.
 */
public interface ClaimReader {

  /** The annotations of PVC namespace/name (empty when it has none). */
  Map<String, String> annotations(String namespace, String name);

  /** No API server: per-disk annotations are not read, the class's parameters apply. */
  ClaimReader NONE = (namespace, name) -> Map.of();

  /** A reader for the API server of the kubeconfig, or of the cluster this runs in; empty if neither. */
  static Optional<ClaimReader> fromEnvironment(Optional<Path> kubeconfig) {
    Config config;
    if (kubeconfig.isPresent()) {
      config = Config.fromKubeconfig(kubeconfig.get().toFile());
    } else if (System.getenv("KUBECONFIG") != null || System.getenv("KUBERNETES_SERVICE_HOST") != null) {
      config = Config.autoConfigure(null);
    } else {
      return Optional.empty();
    }
    return Optional.of(new Api(config));
  }

  /** The reader over HTTPS. */
  final class Api implements ClaimReader {
    private final Config config;
    private final HttpClient http;

    Api(Config config) {
      this.config = config;
      try {
        this.http = HttpClient.newBuilder().sslContext(SSLUtils.sslContext(config))
            .connectTimeout(Duration.ofSeconds(10)).build();
      } catch (Exception e) {
        throw new IllegalArgumentException("cannot set up TLS to the Kubernetes API server " + config.getMasterUrl()
            + ": " + e.getMessage(), e);
      }
    }

    @Override
    public Map<String, String> annotations(String namespace, String name) {
      String base = config.getMasterUrl().endsWith("/") ? config.getMasterUrl() : config.getMasterUrl() + "/";
      URI uri = URI.create(base + "api/v1/namespaces/" + URLEncoder.encode(namespace, StandardCharsets.UTF_8)
          + "/persistentvolumeclaims/" + URLEncoder.encode(name, StandardCharsets.UTF_8));
      HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
          .header("Accept", "application/json");
      String token = config.getAutoOAuthToken() != null ? config.getAutoOAuthToken() : config.getOauthToken();
      if (token != null && !token.isEmpty()) {
        request.header("Authorization", "Bearer " + token);
      }
      HttpResponse<String> response;
      try {
        response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw Rpc.unavailable("cannot read PersistentVolumeClaim " + namespace + "/" + name + " from the Kubernetes "
            + "API server: " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Rpc.unavailable("interrupted while reading PersistentVolumeClaim " + namespace + "/" + name);
      }
      if (response.statusCode() == 404) {
        throw Rpc.notFound("PersistentVolumeClaim " + namespace + "/" + name + " does not exist");
      }
      if (response.statusCode() != 200) {
        throw Rpc.unavailable("reading PersistentVolumeClaim " + namespace + "/" + name + " answered HTTP "
            + response.statusCode() + " (the controller needs get on persistentvolumeclaims)");
      }
      PersistentVolumeClaim claim = Serialization.unmarshal(response.body(), PersistentVolumeClaim.class);
      Map<String, String> annotations = claim.getMetadata().getAnnotations();
      return annotations == null ? Map.of() : annotations;
    }
  }
}
