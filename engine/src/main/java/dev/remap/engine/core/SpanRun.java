package dev.remap.engine.core;

import java.util.List;

/**
 * One leaf of a {@link ChunkRef}: sorted, non-overlapping spans in flat arrays, immutable. Every
 * change returns a new run that shares nothing mutable with this one. Within a run, neighbours
 * that continue each other are joined, so a run's spans are maximal; a chunk cut into several
 * runs may hold two spans that continue each other on either side of a cut, which the chunk's
 * views join (see {@link ChunkRef}).
 *
 * <p>A change copies the run's arrays once, whatever it touches: that is why a chunk keeps its
 * runs small (a chunk cut into hundreds of 4 KiB spans is several runs of a few dozen).
 */
final class SpanRun {

  static final SpanRun EMPTY = new SpanRun(new Span[0], new long[0], new long[0]);

  // Sorted by offset, non-overlapping, joined; never modified after construction.
  private final Span[] spans;
  // The spans' starts and ends side by side: the binary searches read these flat arrays instead
  // of following a pointer per probe (on a run of many spans, those cache misses were most of a
  // write's mapping cost). Changes copy them in bulk like the spans.
  private final long[] starts;
  private final long[] ends;

  private SpanRun(Span[] spans, long[] starts, long[] ends) {
    this.spans = spans;
    this.starts = starts;
    this.ends = ends;
  }

  /** A run of the given spans, which must be sorted, apart and joined where they continue. */
  static SpanRun of(Span[] spans, int from, int to) {
    int n = to - from;
    Span[] copy = new Span[n];
    long[] s = new long[n];
    long[] e = new long[n];
    for (int i = 0; i < n; i++) {
      copy[i] = spans[from + i];
      s[i] = copy[i].offset();
      e[i] = copy[i].end();
    }
    return new SpanRun(copy, s, e);
  }

  int size() {
    return spans.length;
  }

  Span span(int index) {
    return spans[index];
  }

  /** Maps [offset, offset+length) to source, a hole unmapping it; see {@link ChunkRef#put}. */
  SpanRun put(long offset, long length, Source source) {
    long end = offset + length;
    int first = firstEndingAfter(offset);      // first span with end > offset
    int last = firstStartingAtOrAfter(end);    // first span with offset >= end
    Span[] middle = new Span[3];
    int m = 0;
    if (first < last && spans[first].offset() < offset) {
      middle[m++] = spans[first].clip(spans[first].offset(), offset);
    }
    if (!(source instanceof Source.Hole)) {
      middle[m++] = new Span(offset, length, source);
    }
    if (first < last && spans[last - 1].end() > end) {
      middle[m++] = spans[last - 1].clip(end, spans[last - 1].end());
    }
    m = joinWithin(middle, m);
    // Join the new span with the neighbours it continues (the rest were already joined).
    int from = first;
    int to = last;
    if (m > 0 && from > 0 && joinable(spans[from - 1], middle[0])) {
      middle[0] = joined(spans[from - 1], middle[0]);
      from--;
    }
    if (m > 0 && to < spans.length && joinable(middle[m - 1], spans[to])) {
      middle[m - 1] = joined(middle[m - 1], spans[to]);
      to++;
    }
    int n = from + m + spans.length - to;
    Span[] out = new Span[n];
    long[] outStarts = new long[n];
    long[] outEnds = new long[n];
    System.arraycopy(spans, 0, out, 0, from);
    System.arraycopy(starts, 0, outStarts, 0, from);
    System.arraycopy(ends, 0, outEnds, 0, from);
    for (int i = 0; i < m; i++) {
      out[from + i] = middle[i];
      outStarts[from + i] = middle[i].offset();
      outEnds[from + i] = middle[i].end();
    }
    System.arraycopy(spans, to, out, from + m, spans.length - to);
    System.arraycopy(starts, to, outStarts, from + m, spans.length - to);
    System.arraycopy(ends, to, outEnds, from + m, spans.length - to);
    return new SpanRun(out, outStarts, outEnds);
  }

  /**
   * Adds to out the spans of [offset, end) of this run, clipped to it, holes left out, in order.
   */
  void collect(long offset, long end, List<Span> out) {
    for (int i = firstEndingAfter(offset); i < spans.length && starts[i] < end; i++) {
      out.add(starts[i] >= offset && ends[i] <= end ? spans[i] : spans[i].clip(offset, end));
    }
  }

  /**
   * Adds to puts what {@link ChunkRef#relocate} would put for one move inside this run: the parts
   * of [offset, offset+length) that still map to from, byte for byte, mapped to to. Returns
   * whether it added anything.
   */
  boolean matchMove(long offset, long length, Source from, Source.Stored to, List<Span> puts) {
    long end = offset + length;
    boolean moved = false;
    for (int i = firstEndingAfter(offset); i < spans.length && starts[i] < end; i++) {
      Span part = spans[i].clip(offset, end);
      long delta = part.offset() - offset;
      if (part.source().equals(from.advance(delta))) {
        puts.add(new Span(part.offset(), part.length(), to.advance(delta)));
        moved = true;
      }
    }
    return moved;
  }

  /**
   * Applies sorted, non-overlapping puts as {@link #put} would one after the other, in one pass
   * and one copy of the arrays. The output is built left to right: before each change every span
   * starting before the change's end is appended, so the spans the change touches are the tail of
   * the output and its right neighbour is the next input span; the tail is then replaced exactly
   * as put replaces its middle.
   */
  SpanRun applyInOrder(List<Span> changes) {
    if (changes.size() == 1) {
      Span only = changes.get(0);
      return put(only.offset(), only.length(), only.source());
    }
    // Each change removes what it covers and adds at most three spans: a net gain of two at most.
    int capacity = spans.length + 2 * changes.size();
    Span[] out = new Span[capacity];
    long[] outStarts = new long[capacity];
    long[] outEnds = new long[capacity];
    int size = 0;
    int next = 0;
    Span[] middle = new Span[3];
    for (Span change : changes) {
      long offset = change.offset();
      long end = change.end();
      int upto = next;
      while (upto < spans.length && starts[upto] < end) {
        upto++;
      }
      copy(next, out, outStarts, outEnds, size, upto - next);
      size += upto - next;
      next = upto;
      int first = size;
      while (first > 0 && outEnds[first - 1] > offset) {
        first--;
      }
      int m = 0;
      if (first < size && outStarts[first] < offset) {
        middle[m++] = out[first].clip(outStarts[first], offset);
      }
      if (!(change.source() instanceof Source.Hole)) {
        middle[m++] = change;
      }
      if (first < size && outEnds[size - 1] > end) {
        middle[m++] = out[size - 1].clip(end, outEnds[size - 1]);
      }
      m = joinWithin(middle, m);
      if (m > 0 && first > 0 && joinable(out[first - 1], middle[0])) {
        middle[0] = joined(out[first - 1], middle[0]);
        first--;
      }
      if (m > 0 && next < spans.length && joinable(middle[m - 1], spans[next])) {
        middle[m - 1] = joined(middle[m - 1], spans[next]);
        next++;
      }
      for (int i = 0; i < m; i++) {
        out[first + i] = middle[i];
        outStarts[first + i] = middle[i].offset();
        outEnds[first + i] = middle[i].end();
      }
      size = first + m;
    }
    copy(next, out, outStarts, outEnds, size, spans.length - next);
    size += spans.length - next;
    return size == capacity ? new SpanRun(out, outStarts, outEnds) : of(out, 0, size);
  }

  /** Copies count spans from index from on, with their starts and ends, to index at of the others. */
  private void copy(int from, Span[] out, long[] outStarts, long[] outEnds, int at, int count) {
    System.arraycopy(spans, from, out, at, count);
    System.arraycopy(starts, from, outStarts, at, count);
    System.arraycopy(ends, from, outEnds, at, count);
  }

  private int firstEndingAfter(long offset) {
    int lo = 0;
    int hi = spans.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ends[mid] > offset) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  private int firstStartingAtOrAfter(long offset) {
    int lo = 0;
    int hi = spans.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (starts[mid] >= offset) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /** Whether next's bytes continue previous's: same file or object in order, or zeros after zeros. */
  static boolean joinable(Span previous, Span next) {
    if (previous.end() != next.offset()) {
      return false;
    }
    if (previous.source() instanceof Source.Zero && next.source() instanceof Source.Zero) {
      return true;
    }
    return Source.continuous(previous.source(), previous.length(), next.source());
  }

  /**
   * Joins the pieces of a change that continue each other: a write of the bytes a span already
   * maps to (zeroing zeros, a rewrite of the same source) continues the pieces of that span around
   * it. Keeping every span maximal makes the spans a function of the bytes' sources alone, so
   * changes to ranges apart give the same spans in any order (what the batched methods rely on).
   * Returns the new count.
   */
  private static int joinWithin(Span[] middle, int m) {
    int kept = 0;
    for (int i = 1; i < m; i++) {
      if (joinable(middle[kept], middle[i])) {
        middle[kept] = joined(middle[kept], middle[i]);
      } else {
        middle[++kept] = middle[i];
      }
    }
    return m == 0 ? 0 : kept + 1;
  }

  static Span joined(Span previous, Span next) {
    return new Span(previous.offset(), previous.length() + next.length(), previous.source());
  }
}
