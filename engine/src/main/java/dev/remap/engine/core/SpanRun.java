package dev.remap.engine.core;

import java.util.Arrays;
import java.util.List;
import java.util.function.ObjLongConsumer;

/**
 * One leaf of a {@link ChunkRef}: sorted, non-overlapping spans, immutable. Every change returns a
 * new run that shares nothing mutable with this one. Within a run, neighbours that continue each
 * other are joined, so a run's spans are maximal; a chunk cut into several runs may hold two
 * spans that continue each other on either side of a cut, which the chunk's views join (see
 * {@link ChunkRef}).
 *
 * <p>The spans are kept as parallel primitive arrays, not as {@link Span} and {@link Source}
 * objects: start and end in the chunk, the kind of source, its object (a store key or journal
 * file name, shared by every span in that object) and the offset in it. A random 4 KiB change
 * lands in a random chunk of a table of hundreds of thousands of spans; as objects, each span it
 * looked at was two more pointers to follow (cache misses were most of a change's cost, and each
 * clip built two objects), and a span took about 90 bytes of heap where it now takes about 30.
 * {@link Span} objects are made only for callers that ask for them ({@link #span},
 * {@link #collect}). A change copies the run's arrays once, whatever it touches: that is why a
 * chunk keeps its runs small.
 */
final class SpanRun {

  private static final byte ZERO = 1;
  private static final byte STORED = 2;
  private static final byte JOURNALED = 3;

  static final SpanRun EMPTY = new SpanRun(new long[0], new long[0], new byte[0], new String[0], new long[0]);

  // Sorted by start, non-overlapping, joined; never modified after construction.
  private final long[] starts;
  private final long[] ends;
  private final byte[] kinds;
  private final String[] objects; // the key or journal file; null for zeros
  private final long[] offsets;   // where the span's first byte is in its object; 0 for zeros

  private SpanRun(long[] starts, long[] ends, byte[] kinds, String[] objects, long[] offsets) {
    this.starts = starts;
    this.ends = ends;
    this.kinds = kinds;
    this.objects = objects;
    this.offsets = offsets;
  }

  /** A run of the given spans, which must be sorted, apart and joined where they continue. */
  static SpanRun of(List<Span> spans) {
    Builder b = new Builder(spans.size());
    for (Span span : spans) {
      b.add(span.offset(), span.end(), span.source());
    }
    return b.build();
  }

  /** Spans from index from (inclusive) to to (exclusive) of this run, as a run of their own. */
  SpanRun slice(int from, int to) {
    return new SpanRun(Arrays.copyOfRange(starts, from, to), Arrays.copyOfRange(ends, from, to),
        Arrays.copyOfRange(kinds, from, to), Arrays.copyOfRange(objects, from, to), Arrays.copyOfRange(offsets, from, to));
  }

  int size() {
    return starts.length;
  }

  long start(int index) {
    return starts[index];
  }

  long end(int index) {
    return ends[index];
  }

  ChunkRef.Kind kind(int index) {
    return switch (kinds[index]) {
      case ZERO -> ChunkRef.Kind.ZERO;
      case STORED -> ChunkRef.Kind.STORED;
      default -> ChunkRef.Kind.JOURNALED;
    };
  }

  /** The store key or journal file of a span; null for zeros. */
  String object(int index) {
    return objects[index];
  }

  /** Where a span's first byte is in its object; 0 for zeros. */
  long objectOffset(int index) {
    return offsets[index];
  }

  Span span(int index) {
    return new Span(starts[index], ends[index] - starts[index], source(index, starts[index]));
  }

  /** Bytes mapped to stored objects in this run. */
  long storedBytes() {
    long total = 0;
    for (int i = 0; i < kinds.length; i++) {
      if (kinds[i] == STORED) {
        total += ends[i] - starts[i];
      }
    }
    return total;
  }

  /** Hands sink the object and length of each span mapped to a stored object, allocating nothing. */
  void forEachStored(ObjLongConsumer<String> sink) {
    for (int i = 0; i < kinds.length; i++) {
      if (kinds[i] == STORED) {
        sink.accept(objects[i], ends[i] - starts[i]);
      }
    }
  }

  /** Maps [offset, offset+length) to source, a hole unmapping it; see {@link ChunkRef#put}. */
  SpanRun put(long offset, long length, Source source) {
    return applyInOrder(List.of(new Span(offset, length, source)));
  }

  /** Adds to out the spans of [offset, end) of this run, clipped to it, holes left out, in order. */
  void collect(long offset, long end, List<Span> out) {
    for (int i = firstEndingAfter(offset); i < starts.length && starts[i] < end; i++) {
      long from = Math.max(offset, starts[i]);
      out.add(new Span(from, Math.min(end, ends[i]) - from, source(i, from)));
    }
  }

  /**
   * Adds to puts what {@link ChunkRef#relocate} would put for one move inside this run: the parts
   * of [offset, offset+length) that still map to from, byte for byte, mapped to to. Returns
   * whether it added anything.
   */
  boolean matchMove(long offset, long length, Source from, Source.Stored to, List<Span> puts) {
    if (from instanceof Source.Hole) {
      return false; // no span maps to a hole
    }
    byte kind = kindOf(from);
    String object = objectOf(from);
    long base = offsetOf(from);
    long end = offset + length;
    boolean moved = false;
    for (int i = firstEndingAfter(offset); i < starts.length && starts[i] < end; i++) {
      long partStart = Math.max(offset, starts[i]);
      long partEnd = Math.min(end, ends[i]);
      long delta = partStart - offset;
      boolean same = kinds[i] == kind
          && (kind == ZERO || (object.equals(objects[i]) && offsets[i] + (partStart - starts[i]) == base + delta));
      if (same) {
        puts.add(new Span(partStart, partEnd - partStart, to.advance(delta)));
        moved = true;
      }
    }
    return moved;
  }

  /**
   * Applies sorted, non-overlapping changes as puts one after the other would, in one pass and
   * one copy of the arrays. The output is built left to right: before each change every span
   * starting before the change's end is appended, so the spans the change touches are the tail of
   * the output and its right neighbour is the next input span; that tail is cut back to what lies
   * before the change, the change and what of the tail lies after it are appended, and each
   * appended piece is joined with the one before it when it continues it.
   */
  SpanRun applyInOrder(List<Span> changes) {
    Builder out = new Builder(starts.length + 2 * changes.size());
    int next = 0;
    for (Span change : changes) {
      long offset = change.offset();
      long end = change.end();
      int upto = next;
      while (upto < starts.length && starts[upto] < end) {
        upto++;
      }
      out.copy(this, next, upto);
      next = upto;
      // The output's spans that end after the change's start overlap it: cut them back to what
      // lies before it, keeping what lies after it (at most one span reaches past its end).
      int first = out.size;
      while (first > 0 && out.ends[first - 1] > offset) {
        first--;
      }
      boolean tail = first < out.size && out.ends[out.size - 1] > end;
      byte tailKind = 0;
      String tailObject = null;
      long tailOffset = 0;
      long tailEnd = 0;
      if (tail) {
        int t = out.size - 1;
        tailKind = out.kinds[t];
        tailObject = out.objects[t];
        tailOffset = tailKind == ZERO ? 0 : out.offsets[t] + (end - out.starts[t]);
        tailEnd = out.ends[t];
      }
      if (first < out.size && out.starts[first] < offset) {
        out.ends[first] = offset;
        out.size = first + 1;
      } else {
        out.size = first;
      }
      if (!(change.source() instanceof Source.Hole)) {
        out.add(offset, end, change.source());
      }
      if (tail) {
        out.add(end, tailEnd, tailKind, tailObject, tailOffset);
      }
      // The input span after the change may continue what was just appended (a rewrite of the
      // bytes a span already maps to): join it here rather than copy it apart.
      if (next < starts.length && out.size > 0 && out.ends[out.size - 1] == starts[next]
          && out.continues(out.size - 1, kinds[next], objects[next], offsets[next])) {
        out.ends[out.size - 1] = ends[next];
        next++;
      }
    }
    out.copy(this, next, starts.length);
    return out.build();
  }

  private Source source(int index, long at) {
    return switch (kinds[index]) {
      case ZERO -> Source.Zero.INSTANCE;
      case STORED -> new Source.Stored(objects[index], offsets[index] + (at - starts[index]));
      default -> new Source.Journaled(objects[index], offsets[index] + (at - starts[index]));
    };
  }

  private static byte kindOf(Source source) {
    if (source instanceof Source.Stored) {
      return STORED;
    }
    if (source instanceof Source.Journaled) {
      return JOURNALED;
    }
    if (source instanceof Source.Zero) {
      return ZERO;
    }
    throw new IllegalArgumentException("a hole is not kept as a span");
  }

  private static String objectOf(Source source) {
    if (source instanceof Source.Stored stored) {
      return stored.key();
    }
    return source instanceof Source.Journaled journaled ? journaled.file() : null;
  }

  private static long offsetOf(Source source) {
    if (source instanceof Source.Stored stored) {
      return stored.offset();
    }
    return source instanceof Source.Journaled journaled ? journaled.offset() : 0;
  }

  private int firstEndingAfter(long offset) {
    int lo = 0;
    int hi = starts.length;
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

  static Span joined(Span previous, Span next) {
    return new Span(previous.offset(), previous.length() + next.length(), previous.source());
  }

  /**
   * A run being built left to right in growable parallel arrays; {@link #add} joins a span with
   * the last one when it continues it, which keeps every run it builds maximal.
   */
  private static final class Builder {
    long[] starts;
    long[] ends;
    byte[] kinds;
    String[] objects;
    long[] offsets;
    int size;

    Builder(int capacity) {
      int c = Math.max(capacity, 1);
      starts = new long[c];
      ends = new long[c];
      kinds = new byte[c];
      objects = new String[c];
      offsets = new long[c];
    }

    void add(long start, long end, Source source) {
      add(start, end, kindOf(source), objectOf(source), offsetOf(source));
    }

    void add(long start, long end, byte kind, String object, long offset) {
      if (size > 0 && ends[size - 1] == start && continues(size - 1, kind, object, offset)) {
        ends[size - 1] = end;
        return;
      }
      grow(size + 1);
      starts[size] = start;
      ends[size] = end;
      kinds[size] = kind;
      objects[size] = object;
      offsets[size] = offset;
      size++;
    }

    /** Whether a span of kind, object and offset starting where span i ends continues it. */
    boolean continues(int i, byte kind, String object, long offset) {
      if (kinds[i] != kind) {
        return false;
      }
      if (kind == ZERO) {
        return true;
      }
      return object.equals(objects[i]) && offset == offsets[i] + (ends[i] - starts[i]);
    }

    /** Appends spans from index from to to of run, which do not continue each other. */
    void copy(SpanRun run, int from, int to) {
      int n = to - from;
      if (n <= 0) {
        return;
      }
      grow(size + n);
      System.arraycopy(run.starts, from, starts, size, n);
      System.arraycopy(run.ends, from, ends, size, n);
      System.arraycopy(run.kinds, from, kinds, size, n);
      System.arraycopy(run.objects, from, objects, size, n);
      System.arraycopy(run.offsets, from, offsets, size, n);
      size += n;
    }

    private void grow(int needed) {
      if (needed > starts.length) {
        int c = Math.max(needed, starts.length * 2);
        starts = Arrays.copyOf(starts, c);
        ends = Arrays.copyOf(ends, c);
        kinds = Arrays.copyOf(kinds, c);
        objects = Arrays.copyOf(objects, c);
        offsets = Arrays.copyOf(offsets, c);
      }
    }

    SpanRun build() {
      if (size == starts.length) {
        return new SpanRun(starts, ends, kinds, objects, offsets);
      }
      return new SpanRun(Arrays.copyOf(starts, size), Arrays.copyOf(ends, size), Arrays.copyOf(kinds, size),
          Arrays.copyOf(objects, size), Arrays.copyOf(offsets, size));
    }
  }
}
