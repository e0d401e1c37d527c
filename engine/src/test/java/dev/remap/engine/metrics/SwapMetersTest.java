package dev.remap.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.swap.PagePool;
import dev.remap.engine.swap.SwapDisk;
import dev.remap.engine.swap.SwapExports;
import dev.remap.engine.swap.SwapSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The swap meters show what a real swap disk counted: written, read, spilled and discarded pages
 * as counters, where its pages are as gauges, and the pool's cap, promises and use. (The
 * Prometheus rendering is checked by SwapGuestTest, which scrapes {@code remap serve}.)
 */
class SwapMetersTest {

  private static final int PAGE = PagePool.PAGE;

  @TempDir Path tmp;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final SwapExports swaps = new SwapExports(new PagePool(64 * PAGE));

  @AfterEach
  void close() throws Exception {
    swaps.close();
  }

  private double counter(String disk, String name) {
    return registry.get(name).tag("disk", disk).functionCounter().count();
  }

  private double gauge(String disk, String name) {
    return registry.get(name).tag("disk", disk).gauge().value();
  }

  private double pool(String name) {
    return registry.get(name).gauge().value();
  }

  private static ByteBuffer pages(int count, int fill) {
    ByteBuffer b = ByteBuffer.allocate(count * PAGE);
    while (b.hasRemaining()) {
      b.put((byte) fill);
    }
    return b.flip();
  }

  @Test
  void metersFollowADisksCountersAndThePool() throws Exception {
    SwapMeters meters = new SwapMeters(registry, swaps.pool());
    assertThat(pool("remap.swap.pool.cap.bytes")).isEqualTo(64 * PAGE);
    assertThat(pool("remap.swap.pool.reserved.bytes")).isZero();

    // 8 pages of memory, 8 more in a spill file: writing 12 pages must spill some.
    SwapDisk disk = swaps.create(new SwapSpec("vm1-swap", 16 * PAGE, 8 * PAGE,
        Optional.of(new SwapSpec.Spill(tmp, 16 * PAGE)), true, Optional.empty()));
    meters.add(disk);
    assertThat(pool("remap.swap.pool.reserved.bytes")).isEqualTo(8 * PAGE);

    disk.write(0, pages(12, 7), false);
    disk.read(0, ByteBuffer.allocate(12 * PAGE));
    disk.trim(0, 12 * PAGE, false);

    // Every meter against the disk's own counters: the meters add nothing and lose nothing.
    var c = disk.counters();
    assertThat(counter("vm1-swap", "remap.swap.swap.outs")).isEqualTo(c.swapOuts()).isEqualTo(12);
    assertThat(counter("vm1-swap", "remap.swap.swap.ins")).isEqualTo(c.swapIns()).isEqualTo(12);
    assertThat(counter("vm1-swap", "remap.swap.remaps")).isEqualTo(c.remaps()).isPositive();
    assertThat(counter("vm1-swap", "remap.swap.pages.released")).isEqualTo(c.pagesReleased());
    assertThat(counter("vm1-swap", "remap.swap.spill.writes")).isEqualTo(c.spillWrites()).isPositive();
    assertThat(counter("vm1-swap", "remap.swap.spill.loads")).isEqualTo(c.spillLoads()).isPositive();
    assertThat(counter("vm1-swap", "remap.swap.discards")).isEqualTo(c.discards()).isEqualTo(12);
    // The plain block-device path copies into and out of the caller's buffers, and counts it.
    assertThat(counter("vm1-swap", "remap.swap.bytes.copied")).isEqualTo(c.bytesCopied()).isEqualTo(24 * PAGE);
    assertThat(gauge("vm1-swap", "remap.swap.resident.bytes")).isZero();
    assertThat(gauge("vm1-swap", "remap.swap.spilled.bytes")).isZero();
    assertThat(pool("remap.swap.pool.in.use.bytes")).isZero();

    disk.write(0, pages(3, 1), false);
    assertThat(gauge("vm1-swap", "remap.swap.resident.bytes")).isEqualTo(3 * PAGE);
    assertThat(pool("remap.swap.pool.in.use.bytes")).isEqualTo(3 * PAGE);
    assertThat(counter("vm1-swap", "remap.swap.swap.outs")).isEqualTo(15);
  }

  @Test
  void eachDiskHasItsOwnMetersAndARemovedDisksGo() throws Exception {
    SwapMeters meters = new SwapMeters(registry, swaps.pool());
    SwapDisk a = swaps.create(new SwapSpec("a", 8 * PAGE, 8 * PAGE, Optional.empty(), true, Optional.empty()));
    SwapDisk b = swaps.create(new SwapSpec("b", 16 * PAGE, 16 * PAGE, Optional.empty(), true,
        Optional.of("SWAPB")));
    meters.add(a);
    meters.add(b);
    a.write(0, pages(2, 9), false);
    assertThat(counter("a", "remap.swap.swap.outs")).isEqualTo(2);
    assertThat(counter("b", "remap.swap.swap.outs")).isZero();
    // The label's swap signature is a page the disk holds from the start.
    assertThat(gauge("b", "remap.swap.resident.bytes")).isEqualTo(PAGE);

    swaps.remove("a");
    assertThat(meters.remove("a")).isTrue();
    assertThat(meters.remove("a")).isFalse();
    assertThat(registry.find("remap.swap.swap.outs").tag("disk", "a").functionCounter()).isNull();
    assertThat(counter("b", "remap.swap.swap.outs")).isZero();

    // A new disk under the old name is counted from its own start, not the dropped one's.
    SwapDisk again = swaps.create(new SwapSpec("a", 8 * PAGE, 8 * PAGE, Optional.empty(), true, Optional.empty()));
    meters.add(again);
    assertThat(counter("a", "remap.swap.swap.outs")).isZero();
    again.write(0, pages(1, 3), false);
    assertThat(counter("a", "remap.swap.swap.outs")).isEqualTo(1);
  }
}
