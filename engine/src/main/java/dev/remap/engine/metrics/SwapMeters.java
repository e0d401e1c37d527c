package dev.remap.engine.metrics;

import dev.remap.engine.swap.PagePool;
import dev.remap.engine.swap.SwapCounters;
import dev.remap.engine.swap.SwapDisk;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The meters of a node's swap pool (gauges of its cap, what it promised to disks and what it
 * holds) and of each swap disk (tag {@code disk}): the {@link SwapCounters} that prove seed 000's
 * claims, read at each scrape. Counters are the disk's own totals since it was created; a disk
 * lives as long as the process serves it, so they only grow. {@link #remove} takes a dropped
 * disk's meters out of the registry, so that a scrape does not show a disk that is gone.
 *
 * <p>The pool and the disks are held strongly until {@link #remove} (Micrometer's meters keep
 * only a weak reference, which would turn a collected disk into NaN before its meters are gone).
 *
 * <p>Thread-safe: a scrape reads {@link SwapDisk#counters()}, which takes the disk's lock briefly
 * and never this one; {@code this} orders the adding and removing of a disk's meters.
 */
public final class SwapMeters {

  private final MeterRegistry registry;
  private final Map<String, Registered> disks = new HashMap<>();

  /** A disk and its meters; the map holds the disk so that its meters can read it. */
  private record Registered(SwapDisk disk, List<Meter> meters) {}

  /** Registers the pool's gauges. */
  public SwapMeters(MeterRegistry registry, PagePool pool) {
    this.registry = registry;
    Gauge.builder("remap.swap.pool.cap.bytes", pool, PagePool::capBytes).strongReference(true)
        .description("Memory the node's swap disks may hold, all together (--swap-pool).").register(registry);
    Gauge.builder("remap.swap.pool.reserved.bytes", pool, PagePool::reservedBytes).strongReference(true)
        .description("Memory of the swap pool promised to swap disks (the sum of their memory limits).")
        .register(registry);
    Gauge.builder("remap.swap.pool.in.use.bytes", pool, p -> p.pagesInUse() * (double) PagePool.PAGE)
        .strongReference(true)
        .description("Pool pages in use now: mapped by a disk, being received into or sent from.")
        .register(registry);
  }

  /**
   * Registers the meters of one disk, tagged with its name. A disk made anew under the name of one
   * dropped before replaces its meters (the registry would otherwise hand back the old ones, still
   * reading the dropped disk).
   */
  public synchronized void add(SwapDisk disk) {
    String name = disk.spec().name();
    remove(name);
    List<Meter> meters = new ArrayList<>();
    meters.add(counter(disk, "remap.swap.swap.outs", "Pages the guest wrote (swapped out).", SwapCounters::swapOuts));
    meters.add(counter(disk, "remap.swap.swap.ins", "Pages the guest read (swapped in).", SwapCounters::swapIns));
    meters.add(counter(disk, "remap.swap.remaps",
        "Disk pages pointed at another physical page: a swap-out's page, or a spilled page loaded back.",
        SwapCounters::remaps));
    meters.add(counter(disk, "remap.swap.pages.released", "Pool pages a write replaced and gave back.",
        SwapCounters::pagesReleased));
    meters.add(counter(disk, "remap.swap.spill.writes", "Pages written to the spill file to make room in the pool.",
        SwapCounters::spillWrites));
    meters.add(counter(disk, "remap.swap.spill.loads", "Spilled pages loaded back into the pool on a read.",
        SwapCounters::spillLoads));
    meters.add(counter(disk, "remap.swap.discards", "Pages holding data that the guest discarded (TRIM, zeroes).",
        SwapCounters::discards));
    meters.add(counter(disk, "remap.swap.bytes.copied",
        "Payload bytes copied inside the engine: 0 for whole-page traffic served from the pool.",
        SwapCounters::bytesCopied));
    meters.add(gauge(disk, "remap.swap.resident.bytes", "Bytes of the disk held in the pool.",
        SwapCounters::residentBytes));
    meters.add(gauge(disk, "remap.swap.spilled.bytes", "Bytes of the disk held in its spill file.",
        SwapCounters::spilledBytes));
    disks.put(name, new Registered(disk, meters));
  }

  /** Takes a dropped disk's meters out of the registry; false if it had none. */
  public synchronized boolean remove(String disk) {
    Registered registered = disks.remove(disk);
    if (registered == null) {
      return false;
    }
    registered.meters().forEach(registry::remove);
    return true;
  }

  private Meter counter(SwapDisk disk, String name, String help, ToLongFunction<SwapCounters> field) {
    return FunctionCounter.builder(name, disk, d -> field.applyAsLong(d.counters()))
        .description(help).tag("disk", disk.spec().name()).register(registry);
  }

  private Meter gauge(SwapDisk disk, String name, String help, ToLongFunction<SwapCounters> field) {
    return Gauge.builder(name, disk, d -> field.applyAsLong(d.counters()))
        .description(help).tag("disk", disk.spec().name()).register(registry);
  }
}
