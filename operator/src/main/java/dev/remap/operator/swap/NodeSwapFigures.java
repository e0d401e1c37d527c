package dev.remap.operator.swap;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * A swap disk's counters from the CSI node plugin on the node that runs its VM: the plugin's pod
 * there (listed in the operator's namespace by label and spec.nodeName, {@link NodePluginPods}),
 * then one GET of its /metrics, parsed by {@link SwapMetricsText}. A reconcile waits for it at most
 * {@link #CONNECT_TIMEOUT} + {@link #TIMEOUT}: a node that does not answer gives
 * {@link SwapReading#unreachable}, never an exception, so that it never holds up the conditions.
 *
 * <p>Thread-safe: the reconciler's threads share the HTTP client, which is.
 */
@ApplicationScoped
public class NodeSwapFigures implements SwapFiguresSource {

  private static final Logger LOG = Logger.getLogger(NodeSwapFigures.class);
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
  static final Duration TIMEOUT = Duration.ofSeconds(2);

  private final KubernetesClient client;
  private final String namespace;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
      .version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER).build();

  /**
   * @param namespace where the node plugin's pods run: the operator's own (POD_NAMESPACE), as
   *     the chart installs both in the release's namespace
   */
  @Inject
  public NodeSwapFigures(KubernetesClient client, @ConfigProperty(name = "remap.operator.namespace") String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  @Override
  public SwapReading read(String volumeHandle, String node) {
    Optional<URI> uri;
    try {
      List<Pod> pods = client.pods().inNamespace(namespace).withLabels(NodePluginPods.SELECTOR)
          .withField("spec.nodeName", node).list().getItems();
      uri = NodePluginPods.metricsUri(pods);
    } catch (KubernetesClientException e) {
      return unreachable(volumeHandle, "cannot list the CSI node plugin's pods in namespace " + namespace + ": "
          + e.getMessage());
    }
    if (uri.isEmpty()) {
      return unreachable(volumeHandle, "no running CSI node plugin pod with a port named " + NodePluginPods.PORT_NAME
          + " on node " + node + " in namespace " + namespace);
    }
    return scrape(uri.get(), volumeHandle);
  }

  /** One GET of a node plugin's /metrics and the disk's counters in it. */
  SwapReading scrape(URI uri, String volumeHandle) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return unreachable(volumeHandle, uri + " answered HTTP " + r.statusCode());
      }
      return SwapMetricsText.figures(r.body(), volumeHandle).map(SwapReading::served)
          .orElseGet(SwapReading::notServed);
    } catch (IOException | IllegalArgumentException e) {
      return unreachable(volumeHandle, uri + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return unreachable(volumeHandle, uri + ": interrupted");
    }
  }

  private static SwapReading unreachable(String volumeHandle, String why) {
    LOG.warnf("no counters for swap disk %s, its status keeps the last ones: %s", volumeHandle, why);
    return SwapReading.unreachable(why);
  }
}
