package dev.remap.engine.metrics;

import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.volume.VolumeStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The meters of one export (a volume, or a snapshot as {@code VOLUME@SNAPSHOT}), tagged
 * {@code volume=NAME}. Two sources feed them:
 * <ul>
 *   <li>the front-end, as it answers each request ({@link #completed}): requests, bytes, failures
 *       and duration by kind. Counted there, not in the request queue, so that reads the RAM tier
 *       answers at once are in them too, and the duration is what the client waited for.
 *   <li>the export's open stack (merges, cache tiers, journal, uploads), read at each scrape from
 *       what {@link #attach} was given. A stack closes with its export's last connection and a new
 *       one opens with the next: {@link #detach} keeps the closed stack's totals, so counters only
 *       grow for as long as the process runs; gauges read 0 while no stack is open (the space
 *       amplification 1). Space and cleaning figures come from the volume's {@link VolumeStats}.
 * </ul>
 * Meters are never removed: names are those of volumes this process served, a bounded set.
 *
 * <p>Thread-safe: {@link #completed} runs on transfer workers and connection threads and only
 * touches Micrometer's lock-free meters; {@code this} guards the stack and the carried totals,
 * and is held by a scrape while it reads the stack (which takes the cache and uploader locks
 * briefly, never this one).
 */
public final class VolumeMeters {

  /**
   * What an open stack has counted since it opened (counters) and holds now (gauges).
   *
   * @param bytesUploaded segment bytes written to the store, cleaning included
   * @param storeErrors store requests made for the volume that failed (uploads, reads)
   * @param space the volume's space and cleaning figures ({@link SpaceFigures#ZERO} for a snapshot)
   */
  public record StackFigures(long merged, long ramHits, long ramMisses, long ramEvictions, long ramUsedBytes,
      long ramCapacityBytes, long diskHits, long diskMisses, long journalBytes, long uploadBacklogBytes,
      long segmentsUploaded, long bytesUploaded, long storeErrors, SpaceFigures space) {

    public static final StackFigures ZERO = new StackFigures(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** Figures of a stack without a volume at its bottom (a snapshot): no space to report. */
    public StackFigures(long merged, long ramHits, long ramMisses, long ramEvictions, long ramUsedBytes,
        long ramCapacityBytes, long diskHits, long diskMisses, long journalBytes, long uploadBacklogBytes,
        long segmentsUploaded, long bytesUploaded, long storeErrors) {
      this(merged, ramHits, ramMisses, ramEvictions, ramUsedBytes, ramCapacityBytes, diskHits, diskMisses,
          journalBytes, uploadBacklogBytes, segmentsUploaded, bytesUploaded, storeErrors, SpaceFigures.ZERO);
    }

    /** A stack's figures: its queue's merges, its RAM tier (null: none) and its bottom device's. */
    public static StackFigures of(long merged, dev.remap.engine.cache.TierCounters.Snapshot ram, BaseFigures base) {
      long hits = ram == null ? 0 : ram.hits();
      long misses = ram == null ? 0 : ram.misses();
      long evictions = ram == null ? 0 : ram.evictions();
      long used = ram == null ? 0 : ram.usedBytes();
      long capacity = ram == null ? 0 : ram.capacityBytes();
      return new StackFigures(merged, hits, misses, evictions, used, capacity, base.diskHits(), base.diskMisses(),
          base.journalBytes(), base.uploadBacklogBytes(), base.segmentsUploaded(), base.bytesUploaded(),
          base.storeErrors(), base.space());
    }

    StackFigures plus(StackFigures o) {
      return new StackFigures(merged + o.merged, ramHits + o.ramHits, ramMisses + o.ramMisses,
          ramEvictions + o.ramEvictions, 0, 0, diskHits + o.diskHits, diskMisses + o.diskMisses, 0, 0,
          segmentsUploaded + o.segmentsUploaded, bytesUploaded + o.bytesUploaded, storeErrors + o.storeErrors,
          space.plus(o.space));
    }
  }

  /**
   * What the device at the bottom of a stack counted: a volume's disk tier, journal, uploads and
   * space; {@link #NONE} for a device that has none of them (a snapshot).
   */
  public record BaseFigures(long diskHits, long diskMisses, long journalBytes, long uploadBacklogBytes,
      long segmentsUploaded, long bytesUploaded, long storeErrors, SpaceFigures space) {

    public static final BaseFigures NONE = new BaseFigures(0, 0, 0, 0, 0, 0, 0, SpaceFigures.ZERO);

    public static BaseFigures of(VolumeStats stats) {
      return new BaseFigures(stats.diskHits(), stats.diskMisses(), stats.journalBytes(), stats.uploadBacklogBytes(),
          stats.segmentsWritten(), stats.bytesUploaded(), stats.storeErrors(), SpaceFigures.of(stats));
    }
  }

  /**
   * A volume's space as its cleaner last measured it and its no-space state (gauges), and what
   * was cleaned and uploaded of client data since it opened (counters).
   *
   * @param dataBytesUploaded bytes of client writes that reached segments: the divisor of the
   *     write amplification (segment bytes written per byte of client data)
   * @param noSpace whether writes fail for want of space now (local disk or store full)
   */
  public record SpaceFigures(long liveBytes, long storedBytes, long dataBytesUploaded, long cleanedBytes,
      boolean noSpace) {

    public static final SpaceFigures ZERO = new SpaceFigures(0, 0, 0, 0, false);

    public static SpaceFigures of(VolumeStats stats) {
      return new SpaceFigures(stats.liveBytes(), stats.storedBytes(), stats.dataBytesUploaded(),
          stats.cleanedBytes(), stats.noSpace() != null);
    }

    /** Counters add up; gauges are the open stack's alone (0 in what is carried). */
    SpaceFigures plus(SpaceFigures o) {
      return new SpaceFigures(0, 0, dataBytesUploaded + o.dataBytesUploaded, cleanedBytes + o.cleanedBytes, false);
    }
  }

  /**
   * Bucket bounds of the request duration histogram: from a RAM hit (tens of microseconds) to a
   * read that waits for the store or a handover (seconds).
   */
  private static final Duration[] BUCKETS = {
      Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
      Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10)};

  private final Counter[] requests = new Counter[Kind.values().length];
  private final Counter[] bytes = new Counter[Kind.values().length];
  private final Counter[] failures = new Counter[Kind.values().length];
  private final Timer[] durations = new Timer[Kind.values().length];
  private final Counter readsHandedOver;
  private Supplier<StackFigures> stack;
  private StackFigures carried = StackFigures.ZERO;

  VolumeMeters(MeterRegistry registry, String volume) {
    for (Kind kind : Kind.values()) {
      String k = kind.name().toLowerCase(Locale.ROOT);
      int i = kind.ordinal();
      requests[i] = Counter.builder("remap.requests").description("Requests answered, by kind.")
          .tags("volume", volume, "kind", k).register(registry);
      bytes[i] = Counter.builder("remap.request.bytes").description("Bytes of the requests answered, by kind.")
          .baseUnit("bytes").tags("volume", volume, "kind", k).register(registry);
      failures[i] = Counter.builder("remap.request.failures").description("Requests answered with an error, by kind.")
          .tags("volume", volume, "kind", k).register(registry);
      durations[i] = Timer.builder("remap.request.duration")
          .description("Time from a request's arrival to its answer, by kind.")
          .serviceLevelObjectives(BUCKETS).tags("volume", volume, "kind", k).register(registry);
    }
    readsHandedOver = Counter.builder("remap.reads.handed.over")
        .description("Times a connection stopped reading on its own thread for a while and handed reads to the"
            + " transfer workers, because its reads there waited for the disk.")
        .tag("volume", volume).register(registry);
    counter(registry, volume, "remap.requests.merged", "Requests merged into a neighbour by a transfer worker.",
        null, StackFigures::merged);
    counter(registry, volume, "remap.cache.hits", "Cache hits, by tier.", "ram", StackFigures::ramHits);
    counter(registry, volume, "remap.cache.misses", "Cache misses, by tier.", "ram", StackFigures::ramMisses);
    counter(registry, volume, "remap.cache.evictions", "Cache evictions, by tier.", "ram", StackFigures::ramEvictions);
    counter(registry, volume, "remap.cache.hits", "Cache hits, by tier.", "disk", StackFigures::diskHits);
    counter(registry, volume, "remap.cache.misses", "Cache misses, by tier.", "disk", StackFigures::diskMisses);
    counter(registry, volume, "remap.segments.uploaded", "Segments written to the store.", null,
        StackFigures::segmentsUploaded);
    counter(registry, volume, "remap.uploaded.bytes", "Bytes written to the store in segments, cleaning included.",
        null, StackFigures::bytesUploaded);
    counter(registry, volume, "remap.uploaded.data.bytes", "Bytes of client writes that reached store segments.",
        null, f -> f.space().dataBytesUploaded());
    counter(registry, volume, "remap.volume.cleaned.bytes",
        "Live bytes the segment cleaner copied out of partly dead segments.", null, f -> f.space().cleanedBytes());
    counter(registry, volume, "remap.volume.store.errors",
        "Store requests made for the volume that failed (uploads, each retry counted, and reads).", null,
        StackFigures::storeErrors);
    gauge(registry, volume, "remap.cache.used.bytes", "Bytes held, by tier.", "ram", StackFigures::ramUsedBytes);
    gauge(registry, volume, "remap.cache.capacity.bytes", "Capacity, by tier.", "ram",
        StackFigures::ramCapacityBytes);
    gauge(registry, volume, "remap.journal.bytes", "Bytes in the local journal not yet retired.", null,
        StackFigures::journalBytes);
    gauge(registry, volume, "remap.upload.backlog.bytes", "Journaled bytes not yet uploaded to the store.", null,
        StackFigures::uploadBacklogBytes);
    gauge(registry, volume, "remap.volume.live.bytes",
        "Bytes of the volume's segments its mapping references, as the cleaner last measured them.", null,
        f -> f.space().liveBytes());
    gauge(registry, volume, "remap.volume.stored.bytes", "Size of the volume's segments, as last measured.", null,
        f -> f.space().storedBytes());
    gauge(registry, volume, "remap.volume.no.space", "1 while the volume's writes fail for want of space, else 0.",
        null, f -> f.space().noSpace() ? 1 : 0);
    Gauge.builder("remap.volume.space.amplification", this, VolumeMeters::spaceAmplification)
        .description("Stored bytes per live byte (1 while nothing is measured).").tag("volume", volume)
        .register(registry);
    Gauge.builder("remap.volume.write.amplification", this, VolumeMeters::writeAmplification)
        .description("Segment bytes written per byte of client data uploaded, since the process started"
            + " (1 before any upload).").tag("volume", volume).register(registry);
  }

  private void counter(MeterRegistry registry, String volume, String name, String help, String tier,
      ToLongFunction<StackFigures> field) {
    FunctionCounter.Builder<VolumeMeters> builder = FunctionCounter.builder(name, this, m -> m.total(field))
        .description(help).tag("volume", volume);
    if (tier != null) {
      builder.tag("tier", tier);
    }
    builder.register(registry);
  }

  private void gauge(MeterRegistry registry, String volume, String name, String help, String tier,
      ToLongFunction<StackFigures> field) {
    Gauge.Builder<VolumeMeters> builder = Gauge.builder(name, this, m -> m.now(field)).description(help)
        .tag("volume", volume);
    if (tier != null) {
      builder.tag("tier", tier);
    }
    builder.register(registry);
  }

  /** One request answered: its kind, its bytes, how long it took since it arrived, and whether it failed. */
  public void completed(Kind kind, long length, long nanos, boolean failed) {
    int i = kind.ordinal();
    durations[i].record(nanos, TimeUnit.NANOSECONDS);
    if (failed) {
      failures[i].increment();
    } else {
      requests[i].increment();
      bytes[i].increment(length);
    }
  }

  /** A connection hands its reads to the workers for a while (they waited for the disk on its thread). */
  public void readsHandedOver() {
    readsHandedOver.increment();
  }

  /** The export's stack opened: its figures are read from source until {@link #detach}. */
  public synchronized void attach(Supplier<StackFigures> source) {
    if (stack != null) {
      detach();
    }
    stack = source;
  }

  /** The export's stack closed: its last figures are carried on. Call after it closed (uploads done). */
  public synchronized void detach() {
    if (stack != null) {
      carried = carried.plus(stack.get());
      stack = null;
    }
  }

  private synchronized double total(ToLongFunction<StackFigures> field) {
    return field.applyAsLong(carried) + (stack == null ? 0 : field.applyAsLong(stack.get()));
  }

  private synchronized double now(ToLongFunction<StackFigures> field) {
    return stack == null ? 0 : field.applyAsLong(stack.get());
  }

  /** As {@link VolumeStats#spaceAmplification}, of the open stack. */
  private synchronized double spaceAmplification() {
    SpaceFigures space = stack == null ? SpaceFigures.ZERO : stack.get().space();
    return space.liveBytes() == 0 ? 1.0 : (double) space.storedBytes() / space.liveBytes();
  }

  /** As {@link VolumeStats#writeAmplification}, over every stack since the process started. */
  private synchronized double writeAmplification() {
    StackFigures all = stack == null ? carried : carried.plus(stack.get());
    long data = all.space().dataBytesUploaded();
    return data == 0 ? 1.0 : (double) all.bytesUploaded() / data;
  }
}
