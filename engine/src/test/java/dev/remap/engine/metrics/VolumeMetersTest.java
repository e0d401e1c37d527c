package dev.remap.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.metrics.VolumeMeters.StackFigures;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * Counters of an export carry on across the closing and reopening of its stack; gauges show
 * only the open stack. (The Prometheus rendering is tested by scraping the real endpoint in the
 * csi-driver module's MetricsEndpointTest.)
 */
class VolumeMetersTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final EngineMetrics metrics = new EngineMetrics(registry);

  private static StackFigures figures(long hits, long uploaded, long backlog) {
    return new StackFigures(0, hits, 0, 0, 4096, 1 << 20, 0, 0, 0, backlog, 1, uploaded, 0);
  }

  private double counter(String name, String tier) {
    var search = registry.get(name).tag("volume", "vm1");
    return (tier == null ? search : search.tag("tier", tier)).functionCounter().count();
  }

  private double gauge(String name) {
    return registry.get(name).tag("volume", "vm1").gauge().value();
  }

  @Test
  void countersCarryOnAcrossStacksAndGaugesFollowTheOpenOne() {
    VolumeMeters vm1 = metrics.volume("vm1");
    assertThat(metrics.volume("vm1")).isSameAs(vm1);

    vm1.attach(() -> figures(10, 8 << 20, 4096));
    assertThat(counter("remap.cache.hits", "ram")).isEqualTo(10);
    assertThat(gauge("remap.upload.backlog.bytes")).isEqualTo(4096);
    vm1.detach();
    assertThat(counter("remap.cache.hits", "ram")).isEqualTo(10);
    assertThat(counter("remap.uploaded.bytes", null)).isEqualTo(8 << 20);
    assertThat(gauge("remap.upload.backlog.bytes")).isZero();

    vm1.attach(() -> figures(3, 1 << 20, 0));
    assertThat(counter("remap.cache.hits", "ram")).isEqualTo(13);
    assertThat(counter("remap.uploaded.bytes", null)).isEqualTo(9 << 20);
    assertThat(gauge("remap.cache.used.bytes")).isEqualTo(4096);
  }

  @Test
  void requestsCountBytesOfSuccessesAndTimeEveryAnswer() {
    VolumeMeters vm1 = metrics.volume("vm1");
    vm1.completed(Kind.WRITE, 8192, 1_000_000, false);
    vm1.completed(Kind.WRITE, 4096, 3_000_000, false);
    vm1.completed(Kind.WRITE, 4096, 2_000_000, true);
    vm1.completed(Kind.FLUSH, 0, 5_000_000, false);

    assertThat(registry.get("remap.requests").tags("volume", "vm1", "kind", "write").counter().count()).isEqualTo(2);
    assertThat(registry.get("remap.request.bytes").tags("volume", "vm1", "kind", "write").counter().count())
        .isEqualTo(12288);
    assertThat(registry.get("remap.request.failures").tags("volume", "vm1", "kind", "write").counter().count())
        .isEqualTo(1);
    var writes = registry.get("remap.request.duration").tags("volume", "vm1", "kind", "write").timer();
    assertThat(writes.count()).isEqualTo(3);
    assertThat(writes.totalTime(java.util.concurrent.TimeUnit.MILLISECONDS)).isEqualTo(6);
    assertThat(registry.get("remap.requests").tags("volume", "vm1", "kind", "flush").counter().count()).isEqualTo(1);
  }
}
