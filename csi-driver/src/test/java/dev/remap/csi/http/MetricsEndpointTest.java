package dev.remap.csi.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.metrics.EngineMetrics;
import dev.remap.engine.metrics.VolumeMeters;
import dev.remap.engine.metrics.VolumeMeters.StackFigures;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The engine's meters as a Prometheus server sees them: scraped from a real endpoint on a
 * loopback port (what EngineMetricsTest asserted of the hand-made text, now of the library's).
 */
class MetricsEndpointTest {

  private final PrometheusMeterRegistry registry = HttpEndpoint.registry();
  private HttpEndpoint endpoint;

  @AfterEach
  void stop() {
    if (endpoint != null) {
      endpoint.close();
    }
  }

  private InetSocketAddress start(HttpEndpoint.Health health) throws Exception {
    endpoint = HttpEndpoint.start(HttpAddress.parse("127.0.0.1:0", false).orElseThrow(), registry, health)
        .orElseThrow();
    return endpoint.address();
  }

  @Test
  void scrapeShowsEveryVolumeFigureOnceTypedWithItsVolumeTag() throws Exception {
    EngineMetrics metrics = new EngineMetrics(registry);
    VolumeMeters vm1 = metrics.volume("vm-1");
    for (int i = 0; i < 3; i++) {
      vm1.completed(Kind.READ, 4096, 200_000, false);
    }
    vm1.completed(Kind.WRITE, 8192, 2_000_000, false);
    vm1.completed(Kind.WRITE, 4096, 1_000_000, true);
    vm1.attach(() -> new StackFigures(1, 10, 2, 0, 65536, 1 << 20, 7, 3, 4096, 512, 5, 40_000_000, 2));
    metrics.volume("vm\"2");
    InetSocketAddress address = start(Optional::empty);

    Http.Answer scrape = Http.get(address, "/metrics");
    assertThat(scrape.status()).isEqualTo(200);
    assertThat(scrape.sample("remap_requests_total{kind=\"read\",volume=\"vm-1\"}")).isEqualTo(3);
    assertThat(scrape.sample("remap_request_bytes_total{kind=\"write\",volume=\"vm-1\"}")).isEqualTo(8192);
    assertThat(scrape.sample("remap_request_failures_total{kind=\"write\",volume=\"vm-1\"}")).isEqualTo(1);
    assertThat(scrape.sample("remap_request_duration_seconds_count{kind=\"write\",volume=\"vm-1\"}")).isEqualTo(2);
    assertThat(scrape.sample("remap_request_duration_seconds_bucket{kind=\"read\",volume=\"vm-1\",le=\"2.5E-4\"}"))
        .isEqualTo(3);
    assertThat(scrape.sample("remap_uploaded_bytes_total{volume=\"vm-1\"}")).isEqualTo(40_000_000);
    assertThat(scrape.sample("remap_upload_backlog_bytes{volume=\"vm-1\"}")).isEqualTo(512);
    assertThat(scrape.sample("remap_cache_hits_total{tier=\"ram\",volume=\"vm-1\"}")).isEqualTo(10);
    assertThat(scrape.sample("remap_cache_misses_total{tier=\"disk\",volume=\"vm-1\"}")).isEqualTo(3);
    assertThat(scrape.sample("remap_volume_store_errors_total{volume=\"vm-1\"}")).isEqualTo(2);
    assertThat(scrape.body()).contains("volume=\"vm\\\"2\"");
    assertThat(scrape.body().split("# TYPE remap_requests_total counter", -1)).hasSize(2);
    assertThat(scrape.body()).contains("# TYPE jvm_memory_used_bytes gauge");
  }

  @Test
  void healthzAnswersTheCheckAndOtherPathsAndMethodsAreRefused() throws Exception {
    String[] problem = {null};
    InetSocketAddress address = start(() -> Optional.ofNullable(problem[0]));
    assertThat(Http.get(address, "/healthz")).isEqualTo(new Http.Answer(200, "ok\n"));
    problem[0] = "the NBD server is stopped";
    assertThat(Http.get(address, "/healthz")).isEqualTo(new Http.Answer(500, "the NBD server is stopped\n"));
    assertThat(Http.get(address, "/nothing").status()).isEqualTo(404);
    assertThat(Http.get(address, "/healthzz").status()).isEqualTo(404);
    assertThat(Http.send(address, "/metrics", "POST").status()).isEqualTo(405);
  }

  @Test
  void anAddressAskedForThatIsTakenFailsNamingTheFlagAndTheDefaultIsSkipped() throws Exception {
    InetSocketAddress taken = start(Optional::empty);
    String text = "127.0.0.1:" + taken.getPort();
    org.assertj.core.api.Assertions.assertThatThrownBy(() ->
            HttpEndpoint.start(HttpAddress.parse(text, false).orElseThrow(), registry, Optional::empty))
        .hasMessageContaining("--http-address " + text);
    assertThat(HttpEndpoint.start(HttpAddress.parse(text, true).orElseThrow(), registry, Optional::empty)).isEmpty();
    assertThat(HttpAddress.parse("none", false)).isEmpty();
    assertThat(HttpAddress.parse(":9808", true).orElseThrow().address().getAddress().isAnyLocalAddress()).isTrue();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HttpAddress.parse("9808", false))
        .hasMessageContaining("--http-address");
  }
}
