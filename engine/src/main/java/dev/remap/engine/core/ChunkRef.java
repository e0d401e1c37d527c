package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The physical reference of one chunk (the virtual storage unit): which byte ranges of the chunk
 * are stored where. Immutable: every change returns a new value, so a snapshot can keep the old
 * one at no cost. Ranges not covered are holes. Spans are kept sorted, non-overlapping and
 * coalesced (neighbours that continue each other in the same object become one span), so a
 * chunk written sequentially stays one span however many writes made it. Every span is maximal
 * (no two neighbours continue each other), so the spans depend only on which source each byte
 * has, not on the order of the changes that gave it.
 *
 * <p>The generation counts the changes of this chunk; it lets callers tell two states of the same
 * chunk apart without comparing spans (cache validation, upload bookkeeping).
 */
public final class ChunkRef {

  public static final ChunkRef EMPTY = new ChunkRef(0, new Span[0], new long[0], new long[0]);

  private final long generation;
  // Sorted by offset, non-overlapping, coalesced; never modified after construction.
  private final Span[] spans;
  // The spans' starts and ends side by side: the binary searches read these flat arrays instead
  // of following a pointer per probe (on a chunk cut into hundreds of 4 KiB spans, those cache
  // misses were most of a write's mapping cost). put() copies them in bulk like the spans.
  private final long[] starts;
  private final long[] ends;

  private ChunkRef(long generation, Span[] spans, long[] starts, long[] ends) {
    this.generation = generation;
    this.spans = spans;
    this.starts = starts;
    this.ends = ends;
  }

  public long generation() {
    return generation;
  }

  /** The stored and zero spans, in chunk-relative offsets; holes are the gaps. */
  public List<Span> spans() {
    return Collections.unmodifiableList(Arrays.asList(spans));
  }

  public boolean isEmpty() {
    return spans.length == 0;
  }

  /**
   * Maps [offset, offset+length) of the chunk to source; a {@link Source.Hole} unmaps it.
   * Binary search finds the spans the range touches; the untouched ones are copied in bulk, so
   * a write costs O(log n) comparisons and one array copy however fragmented the chunk is.
   */
  public ChunkRef put(long offset, long length, Source source) {
    checkRange(offset, length);
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
    return new ChunkRef(generation + 1, out, outStarts, outEnds);
  }

  /**
   * Where [offset, offset+length) comes from, as spans that cover the range exactly, holes
   * included, in order.
   */
  public List<Span> resolve(long offset, long length) {
    checkRange(offset, length);
    long end = offset + length;
    List<Span> out = new ArrayList<>();
    long cursor = offset;
    for (int i = firstEndingAfter(offset); i < spans.length && spans[i].offset() < end; i++) {
      Span span = spans[i];
      if (span.offset() > cursor) {
        out.add(new Span(cursor, span.offset() - cursor, Source.Hole.INSTANCE));
      }
      Span part = span.clip(offset, end);
      out.add(part);
      cursor = part.end();
    }
    if (cursor < end) {
      out.add(new Span(cursor, end - cursor, Source.Hole.INSTANCE));
    }
    return out;
  }

  /**
   * Moves the parts of [offset, offset+length) that still map to {@code from} (byte for byte,
   * i.e. chunk offset {@code offset + i} at {@code from.offset() + i}) so that they map to
   * {@code to} instead. Parts overwritten since are left alone: a newer write wins over the
   * upload of an older one. Returns this when nothing moved.
   */
  public ChunkRef relocate(long offset, long length, Source from, Source.Stored to) {
    checkRange(offset, length);
    ChunkRef result = this;
    long end = offset + length;
    for (int i = firstEndingAfter(offset); i < spans.length && spans[i].offset() < end; i++) {
      Span part = spans[i].clip(offset, end);
      if (part.source().equals(from.advance(part.offset() - offset))) {
        result = result.put(part.offset(), part.length(), to.advance(part.offset() - offset));
      }
    }
    return result == this ? this : new ChunkRef(generation + 1, result.spans, result.starts, result.ends);
  }

  /**
   * The result of {@link #put} for each change in order, in one pass: O(spans + changes) and one
   * copy of the chunk's arrays instead of one per change (an upload can commit many 4 KiB changes
   * to a chunk cut into hundreds of spans). The changes are chunk-relative, sorted by offset and must not
   * overlap; the generation advances by one per change, as the single puts would.
   */
  public ChunkRef putAll(List<Span> changes) {
    requireSortedApart(changes, Span::offset, Span::end);
    return changes.isEmpty() ? this : applyInOrder(changes, generation + changes.size());
  }

  /**
   * The result of {@link #relocate} for each move in order, in one pass. The moves are
   * chunk-relative, sorted by offset and must not overlap. Because they are apart, what a move
   * finds in its range is what this chunk holds there (a put changes only its own range and joins
   * at its edges), so every move is matched against this chunk and all the resulting puts are
   * applied together. The generation advances by one per move that moved something.
   */
  public ChunkRef relocateAll(List<MappingTable.Relocation> moves) {
    requireSortedApart(moves, MappingTable.Relocation::offset, MappingTable.Relocation::end);
    List<Span> puts = new ArrayList<>();
    int moved = 0;
    int first = 0;
    for (MappingTable.Relocation move : moves) {
      long offset = move.offset();
      long end = move.end();
      while (first < spans.length && ends[first] <= offset) {
        first++;
      }
      int before = puts.size();
      for (int i = first; i < spans.length && starts[i] < end; i++) {
        Span part = spans[i].clip(offset, end);
        long delta = part.offset() - offset;
        if (part.source().equals(move.from().advance(delta))) {
          puts.add(new Span(part.offset(), part.length(), move.to().advance(delta)));
        }
      }
      if (puts.size() > before) {
        moved++;
      }
    }
    return moved == 0 ? this : applyInOrder(puts, generation + moved);
  }

  /**
   * Applies sorted, non-overlapping puts as {@link #put} would one after the other. The output is
   * built left to right: before each change every span starting before the change's end is
   * appended, so the spans the change touches are the tail of the output and its right neighbour
   * is the next input span; the tail is then replaced exactly as put replaces its middle.
   */
  private ChunkRef applyInOrder(List<Span> changes, long newGeneration) {
    if (changes.size() == 1) {
      Span only = changes.get(0);
      return put(only.offset(), only.length(), only.source()).withGeneration(newGeneration);
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
    if (size < capacity) {
      out = Arrays.copyOf(out, size);
      outStarts = Arrays.copyOf(outStarts, size);
      outEnds = Arrays.copyOf(outEnds, size);
    }
    return new ChunkRef(newGeneration, out, outStarts, outEnds);
  }

  /** Copies count spans from index from on, with their starts and ends, to index at of the others. */
  private void copy(int from, Span[] out, long[] outStarts, long[] outEnds, int at, int count) {
    System.arraycopy(spans, from, out, at, count);
    System.arraycopy(starts, from, outStarts, at, count);
    System.arraycopy(ends, from, outEnds, at, count);
  }


  private static <T> void requireSortedApart(List<T> changes, ToLongFunction<T> start, ToLongFunction<T> end) {
    long previousEnd = 0;
    for (T change : changes) {
      checkRange(start.applyAsLong(change), end.applyAsLong(change) - start.applyAsLong(change));
      if (start.applyAsLong(change) < previousEnd) {
        throw new IllegalArgumentException("chunk changes must be sorted by offset and apart: " + change
            + " starts before " + previousEnd);
      }
      previousEnd = end.applyAsLong(change);
    }
  }

  /** The same spans under another generation (restoring a persisted reference). */
  public ChunkRef withGeneration(long newGeneration) {
    return new ChunkRef(newGeneration, spans, starts, ends);
  }

  /** Bytes mapped to stored objects (not holes, not zeros). */
  public long storedBytes() {
    long total = 0;
    for (Span span : spans) {
      if (span.source() instanceof Source.Stored) {
        total += span.length();
      }
    }
    return total;
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

  private static boolean joinable(Span previous, Span next) {
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

  private static Span joined(Span previous, Span next) {
    return new Span(previous.offset(), previous.length() + next.length(), previous.source());
  }

  private static void checkRange(long offset, long length) {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("bad chunk range offset=" + offset + " length=" + length);
    }
  }

  @Override
  public String toString() {
    return "ChunkRef{gen=" + generation + ", " + Arrays.toString(spans) + "}";
  }
}
