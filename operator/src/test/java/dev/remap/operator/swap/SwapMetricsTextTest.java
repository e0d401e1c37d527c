package dev.remap.operator.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.metrics.SwapMeters;
import dev.remap.engine.swap.PagePool;
import dev.remap.engine.swap.SwapCounters;
import dev.remap.engine.swap.SwapDisk;
import dev.remap.engine.swap.SwapExports;
import dev.remap.engine.swap.SwapSpec;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node plugin's /metrics text → one swap disk's counters. */
class SwapMetricsTextTest {

  private static final String DISK = "swap/vms/vm1-swap";
  private static final int PAGE = PagePool.PAGE;

  @TempDir Path tmp;

  /** The node plugin's own rendering, captured: every counter of two disks, large ones with an exponent. */
  @Test
  void readsEachDiskOfTheNodePluginsCapturedMetrics() {
    String text = NodeMetricsServer.captured();
    assertThat(text).contains("# TYPE remap_swap_swap_outs_total counter", "jvm_memory_used_bytes",
        "remap_swap_resident_bytes{disk=\"swap/vms/vm2-swap\"} 1.6388096E7");
    assertThat(SwapMetricsText.figures(text, NodeMetricsServer.VM1)).contains(NodeMetricsServer.VM1_FIGURES);
    assertThat(SwapMetricsText.figures(text, NodeMetricsServer.VM2)).contains(NodeMetricsServer.VM2_FIGURES);
    assertThat(SwapMetricsText.figures(text, "swap/vms/vm3-swap")).isEmpty();
    assertThat(SwapMetricsText.figures(NodeMetricsServer.capturedWithout(NodeMetricsServer.VM1), NodeMetricsServer.VM1))
        .as("a disk the node dropped").isEmpty();
  }

  /**
   * Live: real swap disks counting, their real meters, the operator's own Prometheus registry (an
   * older client than the plugin's, which the captured text above stands for): what is parsed is
   * what the engine counted.
   */
  @Test
  void readsWhatRealSwapDisksCountedThroughTheirMeters() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (SwapExports swaps = new SwapExports(new PagePool(256 * PAGE))) {
      SwapMeters meters = new SwapMeters(registry, swaps.pool());
      SwapDisk disk = swaps.create(new SwapSpec(DISK, 24 * PAGE, 8 * PAGE, Optional.of(new SwapSpec.Spill(tmp,
          16 * PAGE)), true, Optional.empty()));
      SwapDisk other = swaps.create(new SwapSpec("swap/vms/vm2-swap", 64 * PAGE, 64 * PAGE, Optional.empty(), true,
          Optional.empty()));
      meters.add(disk);
      meters.add(other);
      disk.write(0, pages(12, 7), false);
      disk.read(0, ByteBuffer.allocate(12 * PAGE));
      disk.trim(10 * PAGE, 2 * PAGE, false);
      other.write(0, pages(3, 1), false);

      String text = registry.scrape();
      assertThat(SwapMetricsText.figures(text, DISK)).contains(figures(disk));
      assertThat(figures(disk).swapOuts()).isEqualTo(12);
      assertThat(SwapMetricsText.figures(text, "swap/vms/vm2-swap")).contains(figures(other));
      assertThat(figures(other).swapOuts()).isEqualTo(3);

      meters.remove(DISK);
      assertThat(SwapMetricsText.figures(registry.scrape(), DISK)).as("a disk whose meters are gone").isEmpty();
    } finally {
      registry.close();
    }
  }

  private static SwapFigures figures(SwapDisk disk) {
    SwapCounters c = disk.counters();
    return new SwapFigures(c.residentBytes(), c.spilledBytes(), c.swapOuts(), c.swapIns(), c.remaps(),
        c.pagesReleased(), c.spillWrites(), c.spillLoads(), c.discards(), c.bytesCopied());
  }

  private static ByteBuffer pages(int count, int fill) {
    ByteBuffer b = ByteBuffer.allocate(count * PAGE);
    while (b.hasRemaining()) {
      b.put((byte) fill);
    }
    return b.flip();
  }

  private static String series(String labels, String... values) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < SwapMetricsText.SERIES.size(); i++) {
      b.append(SwapMetricsText.SERIES.get(i)).append('{').append(labels).append("} ").append(values[i]).append('\n');
    }
    return b.toString();
  }

  @Test
  void toleratesLabelOrderExponentsTimestampsCommentsAndOtherMetrics() {
    String text = """
        # HELP remap_swap_swap_outs_total Pages the guest wrote (swapped out).
        # TYPE remap_swap_swap_outs_total counter

        jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.2582912E7
        remap_swap_pool_cap_bytes 1.073741824E9
        odd line the parser need not understand {{{
        """
        + series("node=\"n1\",disk=\"swap/vms/other\"", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1")
        + series("le=\"a,b}\" , disk=\"" + DISK + "\",x=\"q\\\"uote\"",
            "1.6777216E7", "0.0", "40000.0 1700000000000", "3", "4.0e1", "5", "6", "7", "8", "0");
    assertThat(SwapMetricsText.figures(text, DISK))
        .contains(new SwapFigures(16_777_216, 0, 40_000, 3, 40, 5, 6, 7, 8, 0));
    assertThat(SwapMetricsText.figures(text, "swap/vms/other"))
        .contains(new SwapFigures(1, 1, 1, 1, 1, 1, 1, 1, 1, 1));
  }

  @Test
  void labelValuesAreUnescapedBeforeTheyAreCompared() {
    String name = "swap/ns/we\"ird\\name";
    String text = series("disk=\"swap/ns/we\\\"ird\\\\name\"", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
    assertThat(SwapMetricsText.figures(text, name)).contains(new SwapFigures(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    assertThat(SwapMetricsText.figures(text, "swap/ns/we")).isEmpty();
  }

  @Test
  void aDiskWithSomeSeriesMissingOrAValueThatIsNoCountIsRefusedNotHalfRead() {
    String all = series("disk=\"" + DISK + "\"", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
    String withoutSpill = all.lines().filter(l -> !l.startsWith("remap_swap_spilled_bytes"))
        .reduce("", (a, l) -> a + l + "\n");
    assertThatThrownBy(() -> SwapMetricsText.figures(withoutSpill, DISK))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lack remap_swap_spilled_bytes");
    for (String value : new String[] {"NaN", "+Inf", "-3", "many"}) {
      String text = all.replace("remap_swap_remaps_total{disk=\"" + DISK + "\"} 5",
          "remap_swap_remaps_total{disk=\"" + DISK + "\"} " + value);
      assertThatThrownBy(() -> SwapMetricsText.figures(text, DISK)).as(value)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("remap_swap_remaps_total has the value");
    }
    assertThat(SwapMetricsText.figures("", DISK)).isEqualTo(Optional.empty());
  }
}
