package dev.remap.engine.metrics;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.StoreMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

/**
 * What the engine counts, as Micrometer meters in the registry it is given: per export
 * ({@link VolumeMeters}, tag {@code volume}) and per store (tag {@code store}: requests, bytes and
 * failures by kind of backend request). The engine only records; whoever owns the registry
 * exposes it (the /metrics endpoint of {@code remap serve} and of the CSI plugins renders it in
 * Prometheus' text format), so the engine carries no exposition format and no HTTP server.
 */
public final class EngineMetrics {

  private final MeterRegistry registry;
  private final Map<String, VolumeMeters> volumes = new ConcurrentHashMap<>();

  public EngineMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Meters that record nothing: for servers nobody scrapes (tools, tests). */
  public static EngineMetrics none() {
    return new EngineMetrics(new CompositeMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The meters of one export, made at its first use and kept (see {@link VolumeMeters}). */
  public VolumeMeters volume(String export) {
    return volumes.computeIfAbsent(export, name -> new VolumeMeters(registry, name));
  }

  /** Counts the store's backend requests under {@code store=name}. */
  public EngineMetrics store(String name, ObjectStore store) {
    for (StoreMetrics.Operation op : StoreMetrics.Operation.values()) {
      String kind = op.name().toLowerCase(Locale.ROOT);
      storeCounter(name, kind, store, "remap.store.requests", "Store requests, by kind.",
          m -> m.of(op).requests());
      storeCounter(name, kind, store, "remap.store.bytes", "Store bytes transferred, by kind.",
          m -> m.of(op).bytes());
      storeCounter(name, kind, store, "remap.store.failures", "Failed store requests, by kind.",
          m -> m.of(op).failures());
    }
    return this;
  }

  private void storeCounter(String name, String kind, ObjectStore store, String meter, String help,
      ToLongFunction<StoreMetrics> field) {
    FunctionCounter.builder(meter, store, s -> field.applyAsLong(s.metrics()))
        .description(help).tags("store", name, "kind", kind).register(registry);
  }
}
