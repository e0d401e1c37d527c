package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The physical reference of one chunk (the virtual storage unit): which byte ranges of the chunk
 * are stored where. Immutable: every change returns a new value, so a snapshot can keep the old
 * one at no cost. Ranges not covered are holes. Spans are kept sorted, non-overlapping and
 * coalesced (neighbours that continue each other in the same object become one span), so a
 * chunk written sequentially stays one span however many writes made it.
 *
 * <p>The generation counts the changes of this chunk; it lets callers tell two states of the same
 * chunk apart without comparing spans (cache validation, upload bookkeeping).
 */
public final class ChunkRef {

  public static final ChunkRef EMPTY = new ChunkRef(0, List.of());

  private final long generation;
  private final List<Span> spans;

  private ChunkRef(long generation, List<Span> spans) {
    this.generation = generation;
    this.spans = spans;
  }

  public long generation() {
    return generation;
  }

  /** The stored and zero spans, in chunk-relative offsets; holes are the gaps. */
  public List<Span> spans() {
    return spans;
  }

  public boolean isEmpty() {
    return spans.isEmpty();
  }

  /** Maps [offset, offset+length) of the chunk to source; a {@link Source.Hole} unmaps it. */
  public ChunkRef put(long offset, long length, Source source) {
    checkRange(offset, length);
    List<Span> out = new ArrayList<>(spans.size() + 2);
    long end = offset + length;
    boolean inserted = false;
    for (Span span : spans) {
      if (span.end() <= offset || span.offset() >= end) {
        if (!inserted && span.offset() >= end) {
          insert(out, offset, length, source);
          inserted = true;
        }
        append(out, span);
        continue;
      }
      if (span.offset() < offset) {
        append(out, span.clip(span.offset(), offset));
      }
      if (!inserted) {
        insert(out, offset, length, source);
        inserted = true;
      }
      if (span.end() > end) {
        append(out, span.clip(end, span.end()));
      }
    }
    if (!inserted) {
      insert(out, offset, length, source);
    }
    return new ChunkRef(generation + 1, Collections.unmodifiableList(out));
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
    for (Span span : spans) {
      if (span.end() <= offset) {
        continue;
      }
      if (span.offset() >= end) {
        break;
      }
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
  public ChunkRef relocate(long offset, long length, Source.Stored from, Source.Stored to) {
    checkRange(offset, length);
    ChunkRef result = this;
    long end = offset + length;
    for (Span span : spans) {
      if (span.end() <= offset || span.offset() >= end) {
        continue;
      }
      Span part = span.clip(offset, end);
      if (part.source() instanceof Source.Stored stored
          && stored.key().equals(from.key())
          && stored.offset() == from.offset() + (part.offset() - offset)) {
        result = result.put(part.offset(), part.length(), to.advance(part.offset() - offset));
      }
    }
    return result == this ? this : new ChunkRef(generation + 1, result.spans);
  }

  /** The same spans under another generation (restoring a persisted reference). */
  public ChunkRef withGeneration(long newGeneration) {
    return new ChunkRef(newGeneration, spans);
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

  private static void insert(List<Span> out, long offset, long length, Source source) {
    if (!(source instanceof Source.Hole)) {
      append(out, new Span(offset, length, source));
    }
  }

  /** Appends span, joining it to the last one when it continues it. */
  private static void append(List<Span> out, Span span) {
    if (!out.isEmpty()) {
      Span last = out.get(out.size() - 1);
      if (last.end() == span.offset() && continues(last, span)) {
        out.set(out.size() - 1, new Span(last.offset(), last.length() + span.length(), last.source()));
        return;
      }
    }
    out.add(span);
  }

  private static boolean continues(Span previous, Span next) {
    if (previous.source() instanceof Source.Zero && next.source() instanceof Source.Zero) {
      return true;
    }
    return previous.source() instanceof Source.Stored a
        && next.source() instanceof Source.Stored b
        && b.continues(a, previous.length());
  }

  private static void checkRange(long offset, long length) {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("bad chunk range offset=" + offset + " length=" + length);
    }
  }

  @Override
  public String toString() {
    return "ChunkRef{gen=" + generation + ", " + spans + "}";
  }
}
