package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.ObjLongConsumer;
import java.util.function.ToLongFunction;

/**
 * The physical reference of one chunk (the virtual storage unit): which byte ranges of the chunk
 * are stored where. Immutable: every change returns a new value, so a snapshot can keep the old
 * one at no cost. Ranges not covered are holes. The spans a caller sees ({@link #spans},
 * {@link #resolve}) are sorted, non-overlapping and maximal: neighbours that continue each other
 * in the same object are one span, so a chunk written sequentially stays one span however many
 * writes made it, and the spans depend only on which source each byte has, not on the order of
 * the changes that gave it.
 *
 * <p>Inside, the spans are kept in leaves ({@link SpanRun}) of at most {@value #LEAF_MAX} spans,
 * each covering a range of the chunk from its bound to the next leaf's. A change copies the
 * leaves it touches and the short array of leaves, not the whole chunk: a 1 MiB chunk cut into
 * 256 spans of 4 KiB by random writes (the usual state of a VM disk) took a copy of all 256 spans
 * for each 4 KiB write, each upload's relocation and each segment applied to the stored table,
 * which was most of a 4 KiB write's mapping CPU. A chunk of few spans is one leaf, as flat as
 * before. A cut between leaves may split a span in two; the views join them again.
 *
 * <p>The generation counts the changes of this chunk; it lets callers tell two states of the same
 * chunk apart without comparing spans (cache validation, upload bookkeeping).
 */
public final class ChunkRef {

  /** A leaf with more spans than this is cut in leaves of {@link #LEAF_TARGET}. */
  static final int LEAF_MAX = 64;
  static final int LEAF_TARGET = 32;

  public static final ChunkRef EMPTY = new ChunkRef(0, new SpanRun[] {SpanRun.EMPTY}, new long[] {0}, 0);

  private final long generation;
  // Leaf i covers [bounds[i], bounds[i + 1]), the last one to the chunk's end; bounds[0] is 0.
  // Never modified after construction.
  private final SpanRun[] leaves;
  private final long[] bounds;
  private final int spanCount;

  private ChunkRef(long generation, SpanRun[] leaves, long[] bounds, int spanCount) {
    this.generation = generation;
    this.leaves = leaves;
    this.bounds = bounds;
    this.spanCount = spanCount;
  }

  public long generation() {
    return generation;
  }

  /** The stored and zero spans, in chunk-relative offsets, maximal; holes are the gaps. */
  public List<Span> spans() {
    List<Span> out = new ArrayList<>(spanCount);
    for (SpanRun leaf : leaves) {
      for (int i = 0; i < leaf.size(); i++) {
        appendJoined(out, leaf.span(i));
      }
    }
    return Collections.unmodifiableList(out);
  }

  public boolean isEmpty() {
    return spanCount == 0;
  }

  /**
   * Maps [offset, offset+length) of the chunk to source; a {@link Source.Hole} unmaps it. Binary
   * search finds the spans the range touches in the leaves it touches; the rest of those leaves
   * is copied in bulk, the other leaves are shared.
   */
  public ChunkRef put(long offset, long length, Source source) {
    checkRange(offset, length);
    return apply(List.of(new Span(offset, length, source)), generation + 1);
  }

  /**
   * Where [offset, offset+length) comes from, as spans that cover the range exactly, holes
   * included, in order.
   */
  public List<Span> resolve(long offset, long length) {
    checkRange(offset, length);
    long end = offset + length;
    List<Span> parts = new ArrayList<>();
    for (int k = leafOf(offset); k < leaves.length && bounds[k] < end; k++) {
      leaves[k].collect(offset, end, parts);
    }
    List<Span> out = new ArrayList<>(parts.size() * 2 + 1);
    long cursor = offset;
    for (Span part : parts) {
      if (part.offset() > cursor) {
        appendJoined(out, new Span(cursor, part.offset() - cursor, Source.Hole.INSTANCE));
      }
      appendJoined(out, part);
      cursor = part.end();
    }
    if (cursor < end) {
      appendJoined(out, new Span(cursor, end - cursor, Source.Hole.INSTANCE));
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
    return relocateAll(List.of(new MappingTable.Relocation(offset, length, from, to)));
  }

  /**
   * The result of {@link #put} for each change in order, in one pass: one copy of each leaf the
   * changes touch instead of one per change (an upload can commit many 4 KiB changes to a chunk
   * cut into hundreds of spans). The changes are chunk-relative, sorted by offset and must not
   * overlap; the generation advances by one per change, as the single puts would.
   */
  public ChunkRef putAll(List<Span> changes) {
    requireSortedApart(changes, Span::offset, Span::end);
    return changes.isEmpty() ? this : apply(changes, generation + changes.size());
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
    for (MappingTable.Relocation move : moves) {
      boolean any = false;
      long end = move.end();
      for (int k = leafOf(move.offset()); k < leaves.length && bounds[k] < end; k++) {
        long from = Math.max(move.offset(), bounds[k]);
        long to = Math.min(end, leafEnd(k));
        long delta = from - move.offset();
        any |= leaves[k].matchMove(from, to - from, move.from().advance(delta),
            (Source.Stored) move.to().advance(delta), puts);
      }
      if (any) {
        moved++;
      }
    }
    return moved == 0 ? this : apply(puts, generation + moved);
  }

  /**
   * Applies sorted, non-overlapping puts, each cut at the leaves' bounds, leaf by leaf; then cuts
   * a leaf grown past {@link #LEAF_MAX}, or lays the chunk out again when its leaves have become
   * sparse (few spans per leaf after a rewrite), so that the leaves stay few and full.
   */
  private ChunkRef apply(List<Span> changes, long newGeneration) {
    if (changes.size() == 1) {
      // A write's put: usually inside one leaf, which is then all that is copied.
      Span only = changes.get(0);
      int k = leafOf(only.offset());
      if (only.end() <= leafEnd(k)) {
        SpanRun changed = leaves[k].put(only.offset(), only.length(), only.source());
        int count = spanCount - leaves[k].size() + changed.size();
        if (changed.size() <= LEAF_MAX && !sparse(leaves.length, count)) {
          SpanRun[] copy = leaves.clone();
          copy[k] = changed;
          return new ChunkRef(newGeneration, copy, bounds, count);
        }
      }
    }
    List<SpanRun> outLeaves = new ArrayList<>(leaves.length + 2);
    List<Long> outBounds = new ArrayList<>(leaves.length + 2);
    int count = 0;
    int next = 0; // the first leaf not yet in the output
    int c = 0;
    Span current = changes.get(0); // the change, or what is left of it past a leaf's end
    while (current != null) {
      int k = leafOf(current.offset());
      for (; next < k; next++) {
        count += add(leaves[next], bounds[next], outLeaves, outBounds);
      }
      long leafEnd = leafEnd(k);
      List<Span> parts = new ArrayList<>();
      while (current != null && current.offset() < leafEnd) {
        if (current.end() <= leafEnd) {
          parts.add(current);
          c++;
          current = c < changes.size() ? changes.get(c) : null;
        } else {
          parts.add(current.clip(current.offset(), leafEnd));
          current = current.clip(leafEnd, current.end());
        }
      }
      count += add(leaves[k].applyInOrder(parts), bounds[k], outLeaves, outBounds);
      next = k + 1;
    }
    for (; next < leaves.length; next++) {
      count += add(leaves[next], bounds[next], outLeaves, outBounds);
    }
    if (sparse(outLeaves.size(), count)) {
      return laidOut(newGeneration, joinedSpans(outLeaves));
    }
    long[] b = new long[outBounds.size()];
    for (int i = 0; i < b.length; i++) {
      b[i] = outBounds.get(i);
    }
    return new ChunkRef(newGeneration, outLeaves.toArray(SpanRun[]::new), b, count);
  }

  /**
   * Whether leaves holding count spans should be laid out again: they would fit in one, or hold
   * fewer than a quarter of {@link #LEAF_TARGET} each on average (a rewrite joined their spans).
   * Keeps a chunk's leaves few, so that the memory per chunk stays near that of its spans.
   */
  private static boolean sparse(int leafCount, int count) {
    return leafCount > 1 && (count <= LEAF_MAX || leafCount > 1 + count / (LEAF_TARGET / 4));
  }

  /**
   * Adds a leaf starting at bound to the output, cut in even leaves of about {@link #LEAF_TARGET}
   * when it holds more than {@link #LEAF_MAX}; returns its span count.
   */
  private static int add(SpanRun leaf, long bound, List<SpanRun> outLeaves, List<Long> outBounds) {
    if (leaf.size() <= LEAF_MAX) {
      outLeaves.add(leaf);
      outBounds.add(bound);
      return leaf.size();
    }
    int pieces = (leaf.size() + LEAF_TARGET - 1) / LEAF_TARGET;
    for (int p = 0; p < pieces; p++) {
      int from = (int) ((long) leaf.size() * p / pieces);
      int to = (int) ((long) leaf.size() * (p + 1) / pieces);
      outLeaves.add(leaf.slice(from, to));
      outBounds.add(p == 0 ? bound : leaf.start(from));
    }
    return leaf.size();
  }

  /** A chunk of these maximal spans: one leaf when they are few, even leaves otherwise. */
  private static ChunkRef laidOut(long generation, List<Span> spans) {
    SpanRun all = SpanRun.of(spans);
    List<SpanRun> leaves = new ArrayList<>();
    List<Long> bounds = new ArrayList<>();
    add(all, 0, leaves, bounds);
    return new ChunkRef(generation, leaves.toArray(SpanRun[]::new),
        bounds.stream().mapToLong(Long::longValue).toArray(), all.size());
  }

  private static List<Span> joinedSpans(List<SpanRun> leaves) {
    List<Span> out = new ArrayList<>();
    for (SpanRun leaf : leaves) {
      for (int i = 0; i < leaf.size(); i++) {
        appendJoined(out, leaf.span(i));
      }
    }
    return out;
  }

  /** Appends span, joined with the last one when it continues it (across a leaf's bound). */
  private static void appendJoined(List<Span> out, Span span) {
    int last = out.size() - 1;
    if (last >= 0) {
      Span previous = out.get(last);
      boolean holes = previous.source() instanceof Source.Hole && span.source() instanceof Source.Hole
          && previous.end() == span.offset();
      if (holes || SpanRun.joinable(previous, span)) {
        out.set(last, SpanRun.joined(previous, span));
        return;
      }
    }
    out.add(span);
  }

  /** The leaf that covers offset: the last whose bound is at or before it. */
  private int leafOf(long offset) {
    int lo = 0;
    int hi = bounds.length - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (bounds[mid] <= offset) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  private long leafEnd(int k) {
    return k + 1 < bounds.length ? bounds[k + 1] : Long.MAX_VALUE;
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
    return new ChunkRef(newGeneration, leaves, bounds, spanCount);
  }

  /**
   * Hands sink the key and length of each span mapped to a stored object (neighbouring spans of
   * one object may come apart), allocating nothing: what a walk of the whole mapping that only
   * sums bytes per object needs, without {@link #spans()}'s objects.
   */
  public void forEachStored(ObjLongConsumer<String> sink) {
    for (SpanRun leaf : leaves) {
      leaf.forEachStored(sink);
    }
  }

  /** What a span maps to, for {@link #forEachSpan}. */
  public enum Kind { ZERO, STORED, JOURNALED }

  /** Receives spans one by one: object is the store key or journal file, null for zeros. */
  @FunctionalInterface
  public interface SpanSink {
    void accept(long offset, long length, Kind kind, String object, long objectOffset);
  }

  /**
   * Hands sink the spans {@link #spans} lists, in order and maximal (joined across leaves), without
   * a {@link Span} or a {@link Source} for each: a checkpoint and a cleaning pass walk every span
   * of the volume, hundreds per chunk of a randomly written one, and building those objects was
   * about a tenth of the upload thread's time under 4 KiB random writes (docs/BENCHMARKS.md).
   */
  public void forEachSpan(SpanSink sink) {
    long start = 0;
    long end = 0;
    Kind kind = null; // null: nothing pending
    String object = null;
    long at = 0;
    for (SpanRun leaf : leaves) {
      for (int i = 0; i < leaf.size(); i++) {
        long nextStart = leaf.start(i);
        Kind nextKind = leaf.kind(i);
        String nextObject = leaf.object(i);
        long nextAt = leaf.objectOffset(i);
        boolean continues = kind == nextKind && end == nextStart
            && (kind == Kind.ZERO || (object.equals(nextObject) && at + (end - start) == nextAt));
        if (!continues) {
          if (kind != null) {
            sink.accept(start, end - start, kind, object, at);
          }
          start = nextStart;
          kind = nextKind;
          object = nextObject;
          at = nextAt;
        }
        end = leaf.end(i);
      }
    }
    if (kind != null) {
      sink.accept(start, end - start, kind, object, at);
    }
  }

  /** Bytes mapped to stored objects (not holes, not zeros). */
  public long storedBytes() {
    long total = 0;
    for (SpanRun leaf : leaves) {
      total += leaf.storedBytes();
    }
    return total;
  }

  /** How many leaves hold the spans (for tests of the layout; callers see only the spans). */
  int leafCount() {
    return leaves.length;
  }

  private static void checkRange(long offset, long length) {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("bad chunk range offset=" + offset + " length=" + length);
    }
  }

  @Override
  public String toString() {
    return "ChunkRef{gen=" + generation + ", " + spans() + "}";
  }
}
