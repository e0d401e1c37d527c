package dev.remap.engine.store;

import dev.remap.engine.store.StoreMetrics.Counts;
import dev.remap.engine.store.StoreMetrics.Operation;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live counters behind {@link StoreMetrics}. Lock-free (LongAdder): every store thread counts
 * without contending; a snapshot is not atomic across counters, which a metrics scrape tolerates.
 */
final class StoreCounters {

  /** One backend request, which may throw. */
  @FunctionalInterface
  interface Request<T> {
    T run() throws IOException;
  }

  private final Map<Operation, LongAdder[]> counters = new EnumMap<>(Operation.class);

  StoreCounters() {
    for (Operation operation : Operation.values()) {
      counters.put(operation, new LongAdder[] {new LongAdder(), new LongAdder(), new LongAdder()});
    }
  }

  /**
   * Runs one backend request and counts it; a failure other than a missing object (or a bug,
   * a RuntimeException) is counted as a failure too.
   */
  <T> T count(Operation operation, Request<T> request) throws IOException {
    LongAdder[] c = counters.get(operation);
    c[0].increment();
    try {
      return request.run();
    } catch (NoSuchObjectException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      c[2].increment();
      throw e;
    }
  }

  void addBytes(Operation operation, long bytes) {
    counters.get(operation)[1].add(bytes);
  }

  StoreMetrics snapshot() {
    Map<Operation, Counts> counts = new EnumMap<>(Operation.class);
    counters.forEach((operation, c) -> counts.put(operation, new Counts(c[0].sum(), c[1].sum(), c[2].sum())));
    return new StoreMetrics(counts);
  }
}
