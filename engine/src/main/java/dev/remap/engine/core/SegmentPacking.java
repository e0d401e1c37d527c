package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a segment holds of a batch of changes: for each write, the parts no later change of the
 * same batch overwrites, and every zero and trim whole, in the batch's order. Applying the
 * entries in order gives exactly what applying the batch's changes in order gives, so the segment
 * is the volume as of its batch's last change and depends on nothing written after it. (Packing
 * from the live mapping instead would also leave out what later changes, not yet in any segment,
 * overwrite; such a segment is right only together with those later changes, which a power cut
 * can take from the journal before they are flushed.) Each byte of a batch is uploaded at most
 * once. Pure.
 */
public final class SegmentPacking {

  private SegmentPacking() {}

  /** One change of the batch: for DATA, its bytes are at payload. */
  public record Change(SegmentFormat.Kind kind, long offset, long length, Source payload) {}

  /**
   * The segment's entries (dataOffset 0: the format places the data) and, for each DATA entry in
   * the same order, where its bytes are now.
   */
  public record Packed(List<SegmentFormat.Entry> entries, List<Span> data) {}

  public static Packed pack(List<Change> changes) {
    int n = changes.size();
    // From the last change back: what later changes of the batch cover is left out of earlier writes.
    List<List<Span>> pieces = new ArrayList<>(n);
    TreeMap<Long, Long> covered = new TreeMap<>();
    for (int i = n - 1; i >= 0; i--) {
      Change c = changes.get(i);
      long end = c.offset() + c.length();
      pieces.add(c.kind() == SegmentFormat.Kind.DATA ? uncovered(covered, c, end) : List.of());
      cover(covered, c.offset(), end);
    }
    List<SegmentFormat.Entry> entries = new ArrayList<>(n);
    List<Span> data = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Change c = changes.get(i);
      if (c.kind() != SegmentFormat.Kind.DATA) {
        entries.add(new SegmentFormat.Entry(c.kind(), c.offset(), c.length(), 0));
        continue;
      }
      for (Span piece : pieces.get(n - 1 - i)) {
        entries.add(new SegmentFormat.Entry(SegmentFormat.Kind.DATA, piece.offset(), piece.length(), 0));
        data.add(piece);
      }
    }
    return new Packed(entries, data);
  }

  /** The parts of c not in covered, each with where its bytes are. */
  private static List<Span> uncovered(TreeMap<Long, Long> covered, Change c, long end) {
    List<Span> out = new ArrayList<>(1);
    long at = c.offset();
    Map.Entry<Long, Long> before = covered.floorEntry(at);
    if (before != null && before.getValue() > at) {
      at = before.getValue();
    }
    while (at < end) {
      Map.Entry<Long, Long> next = covered.ceilingEntry(at);
      long stop = next == null ? end : Math.min(end, next.getKey());
      if (stop > at) {
        out.add(new Span(at, stop - at, c.payload().advance(at - c.offset())));
      }
      if (next == null || next.getKey() >= end) {
        break;
      }
      at = next.getValue();
    }
    return out;
  }

  /** Adds [from, to) to covered, a set of disjoint ranges (start to end) with none touching. */
  private static void cover(TreeMap<Long, Long> covered, long from, long to) {
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
}
