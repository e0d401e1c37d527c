package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Sorts a batch of requests by address and merges adjacent ones of the same kind, as a transfer
 * worker does before it touches caches and stores (fewer, larger operations). Pure: it plans,
 * the caller executes the plan in order.
 *
 * <p>Reordering must never change what a client observes, so the batch is cut into epochs in
 * arrival order: a request that overlaps an earlier request of the current epoch, where either
 * of the two changes data, starts a new epoch; a flush is an epoch of its own. Only requests of
 * one epoch are sorted and merged. Within an epoch, changes never overlap each other or a read,
 * so their order does not matter. Flushes that arrived one after the other are one flush: run
 * after the last of them, it covers every change that arrived before any of them (a client that
 * flushes every few writes queues several while one runs).
 */
public final class RequestMerger {

  public enum Kind { READ, WRITE, TRIM, ZERO, FLUSH }

  /** One request as it arrived: index is its position in the batch. */
  public record Request(int index, Kind kind, long offset, long length) {
    long end() {
      return offset + length;
    }
  }

  /** A merged operation and the requests it serves, in address order. */
  public record Merged(Kind kind, long offset, long length, List<Request> parts) {
    public long end() {
      return offset + length;
    }
  }

  private final long maxMergedLength;

  /** maxMergedLength caps a merged operation (a store request, a buffer) in bytes. */
  public RequestMerger(long maxMergedLength) {
    if (maxMergedLength <= 0) {
      throw new IllegalArgumentException("maxMergedLength must be positive");
    }
    this.maxMergedLength = maxMergedLength;
  }

  /** The plan for requests given in arrival order; executing it in order is equivalent. */
  public List<Merged> plan(List<Request> requests) {
    List<Merged> plan = new ArrayList<>();
    List<Request> epoch = new ArrayList<>();
    for (Request request : requests) {
      if (request.kind() == Kind.FLUSH) {
        close(epoch, plan);
        Merged last = plan.isEmpty() ? null : plan.get(plan.size() - 1);
        if (last != null && last.kind() == Kind.FLUSH) {
          // Flushes one after the other: one flush run after the last covers what each must.
          List<Request> parts = new ArrayList<>(last.parts());
          parts.add(request);
          plan.set(plan.size() - 1, new Merged(Kind.FLUSH, 0, 0, List.copyOf(parts)));
        } else {
          plan.add(new Merged(Kind.FLUSH, 0, 0, List.of(request)));
        }
        continue;
      }
      if (conflicts(epoch, request)) {
        close(epoch, plan);
      }
      epoch.add(request);
    }
    close(epoch, plan);
    return plan;
  }

  private static boolean conflicts(List<Request> epoch, Request request) {
    for (Request earlier : epoch) {
      boolean overlap = earlier.offset() < request.end() && request.offset() < earlier.end();
      if (overlap && (earlier.kind() != Kind.READ || request.kind() != Kind.READ)) {
        return true;
      }
    }
    return false;
  }

  private void close(List<Request> epoch, List<Merged> plan) {
    if (epoch.isEmpty()) {
      return;
    }
    List<Request> sorted = new ArrayList<>(epoch);
    sorted.sort(Comparator.comparing(Request::kind).thenComparingLong(Request::offset));
    Merged current = null;
    for (Request request : sorted) {
      if (current != null && canJoin(current, request)) {
        List<Request> parts = new ArrayList<>(current.parts());
        parts.add(request);
        long end = Math.max(current.end(), request.end());
        current = new Merged(current.kind(), current.offset(), end - current.offset(), parts);
      } else {
        if (current != null) {
          plan.add(freeze(current));
        }
        current = new Merged(request.kind(), request.offset(), request.length(), List.of(request));
      }
    }
    plan.add(freeze(current));
    epoch.clear();
  }

  private boolean canJoin(Merged current, Request next) {
    if (current.kind() != next.kind()) {
      return false;
    }
    long end = Math.max(current.end(), next.end());
    if (end - current.offset() > maxMergedLength) {
      return false;
    }
    // Changes join only when adjacent; reads may also overlap each other (one read serves both).
    return next.kind() == Kind.READ ? next.offset() <= current.end() : next.offset() == current.end();
  }

  private static Merged freeze(Merged merged) {
    return new Merged(merged.kind(), merged.offset(), merged.length(), List.copyOf(merged.parts()));
  }
}
