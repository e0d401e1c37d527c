package dev.remap.engine.core;

/** A run of bytes of a volume (or of a chunk) and where they come from. */
public record Span(long offset, long length, Source source) {
  public Span {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("bad span offset=" + offset + " length=" + length);
    }
  }

  public long end() {
    return offset + length;
  }

  /** The part of this span in [from, to), which must intersect it. */
  Span clip(long from, long to) {
    long start = Math.max(offset, from);
    long stop = Math.min(end(), to);
    return new Span(start, stop - start, source.advance(start - offset));
  }
}
