package dev.remap.engine.store;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * A snapshot of a store's counters since it was opened. A request is one request to the backend:
 * one file-system operation for the file store, one HTTP request for S3 (a list of 2,500 keys is
 * three LIST requests; a deleteAll of 1,500 keys is two DELETE requests on S3 and 1,500 on a file
 * store). Bytes are object payload bytes moved: written by PUT, read by GET.
 */
public record StoreMetrics(Map<Operation, Counts> byOperation) {

  /** The kinds of backend request. stat is HEAD; read and get are GET; putIfAbsent is PUT. */
  public enum Operation {
    PUT, GET, HEAD, LIST, DELETE
  }

  /**
   * Counters of one kind of request. failures counts requests that ended in a store error
   * (a missing object is an answer, not a failure).
   */
  public record Counts(long requests, long bytes, long failures) {
    public static final Counts ZERO = new Counts(0, 0, 0);
  }

  public StoreMetrics {
    EnumMap<Operation, Counts> copy = new EnumMap<>(Operation.class);
    for (Operation operation : Operation.values()) {
      copy.put(operation, byOperation.getOrDefault(operation, Counts.ZERO));
    }
    byOperation = Collections.unmodifiableMap(copy);
  }

  public Counts of(Operation operation) {
    return byOperation.get(operation);
  }

  public long requests(Operation operation) {
    return of(operation).requests();
  }

  public long bytes(Operation operation) {
    return of(operation).bytes();
  }

  public long totalRequests() {
    return byOperation.values().stream().mapToLong(Counts::requests).sum();
  }
}
