package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
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
    List<List<Span>> pieces = piecesLeft(changes);
    List<SegmentFormat.Entry> entries = new ArrayList<>(n);
    List<Span> data = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Change c = changes.get(i);
      if (c.kind() != SegmentFormat.Kind.DATA) {
        entries.add(new SegmentFormat.Entry(c.kind(), c.offset(), c.length(), 0));
        continue;
      }
      for (Span piece : pieces.get(i)) {
        entries.add(new SegmentFormat.Entry(SegmentFormat.Kind.DATA, piece.offset(), piece.length(), 0));
        data.add(piece);
      }
    }
    return new Packed(entries, data);
  }

  /**
   * For each change, the parts of it no later change of the batch covers (empty for zeros and
   * trims, which are packed whole). Changes fall into clusters of overlapping ones, found by one
   * sort of their offsets; a change alone in its cluster is left whole, and only a cluster of
   * several walks the coverage, from its last change back. Random writes over a large volume
   * are nearly all alone: a batch of 2,048 of them used to cost a tree lookup or two per change.
   */
  private static List<List<Span>> piecesLeft(List<Change> changes) {
    int n = changes.size();
    long[] starts = new long[n];
    for (int i = 0; i < n; i++) {
      starts[i] = changes.get(i).offset();
    }
    int[] byStart = IndexSort.byKey(starts);
    List<List<Span>> pieces = new ArrayList<>(Collections.nCopies(n, List.<Span>of()));
    for (int from = 0; from < n; ) {
      long end = endOf(changes.get(byStart[from]));
      int to = from + 1;
      while (to < n && starts[byStart[to]] < end) {
        end = Math.max(end, endOf(changes.get(byStart[to])));
        to++;
      }
      if (to - from == 1) {
        Change c = changes.get(byStart[from]);
        if (c.kind() == SegmentFormat.Kind.DATA) {
          pieces.set(byStart[from], List.of(new Span(c.offset(), c.length(), c.payload())));
        }
      } else {
        int[] cluster = Arrays.copyOfRange(byStart, from, to);
        Arrays.sort(cluster); // batch order
        Coverage covered = new Coverage();
        for (int k = cluster.length - 1; k >= 0; k--) {
          Change c = changes.get(cluster[k]);
          if (c.kind() == SegmentFormat.Kind.DATA) {
            pieces.set(cluster[k], covered.uncovered(c.offset(), c.length(), c.payload()));
          }
          covered.cover(c.offset(), endOf(c));
        }
      }
      from = to;
    }
    return pieces;
  }

  private static long endOf(Change c) {
    return c.offset() + c.length();
  }
}
