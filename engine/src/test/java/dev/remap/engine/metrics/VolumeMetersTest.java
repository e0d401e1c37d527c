package dev.remap.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.metrics.VolumeMeters.SpaceFigures;
import dev.remap.engine.metrics.VolumeMeters.StackFigures;
import dev.remap.engine.volume.VolumeStats;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * Counters of an export carry on across the closing and reopening of its stack; gauges show
 * only the open stack; the amplifications are ratios of the two kinds. (The Prometheus rendering is tested by scraping the real endpoint in the
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

  private static StackFigures withSpace(long uploaded, SpaceFigures space) {
    return new StackFigures(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, uploaded, 0, space);
  }

  @Test
  void spaceGaugesFollowTheOpenStackAndCleaningCountersCarryOn() {
    VolumeMeters vm1 = metrics.volume("vm1");
    assertThat(gauge("remap.volume.space.amplification")).as("nothing measured").isEqualTo(1.0);
    assertThat(gauge("remap.volume.write.amplification")).as("nothing uploaded").isEqualTo(1.0);

    // 3 MiB of client data took 4 MiB of segment writes (1 MiB of it cleaning); 2 MiB stored for 1.6 live.
    vm1.attach(() -> withSpace(4 << 20, new SpaceFigures(1_600_000, 2_000_000, 3 << 20, 1 << 20, false)));
    assertThat(gauge("remap.volume.live.bytes")).isEqualTo(1_600_000);
    assertThat(gauge("remap.volume.stored.bytes")).isEqualTo(2_000_000);
    assertThat(gauge("remap.volume.space.amplification")).isEqualTo(1.25);
    assertThat(counter("remap.volume.cleaned.bytes", null)).isEqualTo(1 << 20);
    assertThat(counter("remap.uploaded.data.bytes", null)).isEqualTo(3 << 20);
    assertThat(counter("remap.uploaded.bytes", null)).isEqualTo(4 << 20);
    assertThat(gauge("remap.volume.write.amplification")).isCloseTo(4.0 / 3, within(1e-9));
    assertThat(gauge("remap.volume.no.space")).isZero();
    vm1.detach();

    assertThat(gauge("remap.volume.live.bytes")).as("no stack open").isZero();
    assertThat(gauge("remap.volume.space.amplification")).isEqualTo(1.0);
    assertThat(counter("remap.volume.cleaned.bytes", null)).isEqualTo(1 << 20);
    assertThat(gauge("remap.volume.write.amplification")).as("over the process's life")
        .isCloseTo(4.0 / 3, within(1e-9));

    // Reopened: 1 MiB more of client data, no cleaning; then the store filled up and writes fail.
    vm1.attach(() -> withSpace(1 << 20, new SpaceFigures(1_000_000, 3_000_000, 1 << 20, 0, true)));
    assertThat(gauge("remap.volume.no.space")).isEqualTo(1);
    assertThat(gauge("remap.volume.space.amplification")).isEqualTo(3.0);
    assertThat(counter("remap.uploaded.data.bytes", null)).isEqualTo(4 << 20);
    assertThat(gauge("remap.volume.write.amplification")).isEqualTo(1.25);
  }

  @Test
  void aSnapshotExportHasNoSpaceFigures() {
    VolumeMeters snapshot = metrics.volume("vm1");
    snapshot.attach(() -> figures(1, 0, 0));
    assertThat(gauge("remap.volume.stored.bytes")).isZero();
    assertThat(gauge("remap.volume.no.space")).isZero();
    assertThat(gauge("remap.volume.space.amplification")).isEqualTo(1.0);
    assertThat(gauge("remap.volume.write.amplification")).isEqualTo(1.0);
  }

  @Test
  void spaceFiguresAreTheVolumesStats() {
    VolumeStats stats = new VolumeStats(0, 0, 3, 300, 0, 0, 0, null, 80, 100, 200, 50, "the store is full");
    assertThat(SpaceFigures.of(stats)).isEqualTo(new SpaceFigures(80, 100, 200, 50, true));
    assertThat(SpaceFigures.of(new VolumeStats(0, 0, 0, 0, 0, 0, 0, null, 0, 0, 0, 0, null)).noSpace()).isFalse();
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
