package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.List;

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
    Coverage covered = new Coverage();
    for (int i = n - 1; i >= 0; i--) {
      Change c = changes.get(i);
      pieces.add(c.kind() == SegmentFormat.Kind.DATA ? covered.uncovered(c.offset(), c.length(), c.payload()) : List.of());
      covered.cover(c.offset(), c.offset() + c.length());
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
}
