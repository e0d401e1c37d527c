package dev.remap.engine.metrics;

import dev.remap.engine.cache.TierCounters;
import dev.remap.engine.core.RequestMerger;
import dev.remap.engine.queue.RequestQueue;
import dev.remap.engine.store.StoreMetrics;
import dev.remap.engine.volume.VolumeStats;
import java.util.Locale;

/**
 * Renders what the engine counts — requests and bytes by kind, merges, cache hits and misses
 * per tier, journal bytes, upload backlog, store requests and bytes by kind — as Prometheus
 * text for the /metrics endpoints of the node plugin and the server.
 */
public final class EngineMetrics {

  private final PrometheusText text = new PrometheusText();

  public EngineMetrics volume(String volume, RequestQueue.Counters queue, VolumeStats stats) {
    for (RequestMerger.Kind kind : RequestMerger.Kind.values()) {
      String k = kind.name().toLowerCase(Locale.ROOT);
      text.counter("remap_requests_total", "Requests served, by kind.", queue.requests()[kind.ordinal()],
          "volume", volume, "kind", k);
      text.counter("remap_request_bytes_total", "Bytes of requests served, by kind.", queue.bytes()[kind.ordinal()],
          "volume", volume, "kind", k);
    }
    text.counter("remap_requests_merged_total", "Requests merged into a neighbour by a transfer worker.",
        queue.mergedAway(), "volume", volume);
    text.gauge("remap_journal_bytes", "Bytes in the local journal not yet retired.", stats.journalBytes(),
        "volume", volume);
    text.gauge("remap_upload_backlog_bytes", "Journaled bytes waiting for upload to the store.",
        stats.uploadBacklogBytes(), "volume", volume);
    text.counter("remap_segments_uploaded_total", "Segments written to the store.", stats.segmentsWritten(),
        "volume", volume);
    text.counter("remap_uploaded_bytes_total", "Bytes written to the store in segments.", stats.bytesUploaded(),
        "volume", volume);
    return this;
  }

  public EngineMetrics cache(TierCounters.Snapshot tier) {
    text.counter("remap_cache_hits_total", "Cache hits, by tier.", tier.hits(), "tier", tier.tier());
    text.counter("remap_cache_misses_total", "Cache misses, by tier.", tier.misses(), "tier", tier.tier());
    text.counter("remap_cache_evictions_total", "Cache evictions, by tier.", tier.evictions(), "tier", tier.tier());
    text.gauge("remap_cache_used_bytes", "Bytes held, by tier.", tier.usedBytes(), "tier", tier.tier());
    text.gauge("remap_cache_capacity_bytes", "Capacity, by tier.", tier.capacityBytes(), "tier", tier.tier());
    return this;
  }

  public EngineMetrics store(String store, StoreMetrics metrics) {
    for (StoreMetrics.Operation op : StoreMetrics.Operation.values()) {
      String k = op.name().toLowerCase(Locale.ROOT);
      StoreMetrics.Counts counts = metrics.of(op);
      text.counter("remap_store_requests_total", "Store requests, by kind.", counts.requests(), "store", store, "kind", k);
      text.counter("remap_store_bytes_total", "Store bytes transferred, by kind.", counts.bytes(), "store", store, "kind", k);
      text.counter("remap_store_failures_total", "Failed store requests, by kind.", counts.failures(),
          "store", store, "kind", k);
    }
    return this;
  }

  public String render() {
    return text.toString();
  }
}
