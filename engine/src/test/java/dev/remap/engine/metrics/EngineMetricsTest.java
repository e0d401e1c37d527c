package dev.remap.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.cache.TierCounters;
import dev.remap.engine.queue.RequestQueue;
import dev.remap.engine.volume.VolumeStats;
import org.junit.jupiter.api.Test;

class EngineMetricsTest {

  @Test
  void rendersPrometheusTextWithOneHeaderPerMetric() {
    String text = new EngineMetrics()
        .volume("vm-1", new RequestQueue.Counters(new long[] {3, 2, 0, 0, 1}, new long[] {12288, 8192, 0, 0, 0}, 1),
            new VolumeStats(4096, 0, 5, 40_000_000, null))
        .volume("vm\"2", new RequestQueue.Counters(new long[5], new long[5], 0), new VolumeStats(0, 0, 0, 0, null))
        .cache(new TierCounters.Snapshot("ram", 10, 2, 0, 65536, 1 << 20))
        .render();
    assertThat(text).contains("remap_requests_total{volume=\"vm-1\",kind=\"read\"} 3\n")
        .contains("remap_request_bytes_total{volume=\"vm-1\",kind=\"write\"} 8192\n")
        .contains("remap_uploaded_bytes_total{volume=\"vm-1\"} 40000000\n")
        .contains("volume=\"vm\\\"2\"")
        .contains("remap_cache_hits_total{tier=\"ram\"} 10\n");
    assertThat(text.split("# TYPE remap_requests_total counter", -1)).hasSize(2);
  }
}
