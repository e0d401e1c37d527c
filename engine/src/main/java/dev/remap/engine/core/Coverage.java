package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Ranges covered so far, walking changes from the last to the first: what a later change covers
 * is left out of an earlier one. How a segment leaves out what later writes of its batch replace
 * ({@link SegmentPacking}), and how overlapping puts are applied to a chunk in one pass ({@link
 * MappingTable#putAll}). Pure and not thread-safe.
 */
final class Coverage {

  /** Disjoint ranges, start to end, none touching another. */
  private final TreeMap<Long, Long> covered = new TreeMap<>();

  /** The parts of [offset, offset+length) not covered, each as a span from source advanced to it, in order. */
  List<Span> uncovered(long offset, long length, Source source) {
    long end = offset + length;
    List<Span> out = new ArrayList<>(1);
    long at = offset;
    Map.Entry<Long, Long> before = covered.floorEntry(at);
    if (before != null && before.getValue() > at) {
      at = before.getValue();
    }
    while (at < end) {
      Map.Entry<Long, Long> next = covered.ceilingEntry(at);
      long stop = next == null ? end : Math.min(end, next.getKey());
      if (stop > at) {
        out.add(new Span(at, stop - at, source.advance(at - offset)));
      }
      if (next == null || next.getKey() >= end) {
        break;
      }
      at = next.getValue();
    }
    return out;
  }

  /** Adds [from, to). */
  void cover(long from, long to) {
    Map.Entry<Long, Long> before = covered.floorEntry(from);
    if (before != null && before.getValue() >= from) {
      from = before.getKey();
      to = Math.max(to, before.getValue());
      covered.remove(before.getKey());
    }
    for (Map.Entry<Long, Long> next = covered.ceilingEntry(from); next != null && next.getKey() <= to;
        next = covered.ceilingEntry(from)) {
      to = Math.max(to, next.getValue());
      covered.remove(next.getKey());
    }
    covered.put(from, to);
  }

  /**
   * Puts in order, as the disjoint puts that have the same effect, sorted by offset: each byte
   * from the last put that covers it.
   */
  static List<Span> latestWins(List<Span> inOrder) {
    Coverage coverage = new Coverage();
    List<Span> out = new ArrayList<>(inOrder.size());
    for (int i = inOrder.size() - 1; i >= 0; i--) {
      Span put = inOrder.get(i);
      out.addAll(coverage.uncovered(put.offset(), put.length(), put.source()));
      coverage.cover(put.offset(), put.end());
    }
    out.sort(java.util.Comparator.comparingLong(Span::offset));
    return out;
  }
}
