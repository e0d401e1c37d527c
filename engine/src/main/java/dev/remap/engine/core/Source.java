package dev.remap.engine.core;

import java.util.Objects;

/**
 * Where the bytes of a mapped range come from. A range nobody wrote is a {@link Hole}; a range
 * explicitly zeroed without deallocation is {@link Zero}; everything else is {@link Stored} at an
 * offset of an immutable object (a segment in the store, or a local journal file while a write
 * waits for upload). Because objects never change, a {@code Stored} reference is valid as long as
 * its object exists, which is what lets snapshots and clones share data without copying it.
 */
public sealed interface Source {

  /** Moves this source forward by delta bytes: the reference for a suffix of the same data. */
  Source advance(long delta);

  /** Unallocated: reads as zeros, reported as a hole. */
  enum Hole implements Source {
    INSTANCE;

    @Override
    public Source advance(long delta) {
      return this;
    }

    @Override
    public String toString() {
      return "hole";
    }
  }

  /** Allocated zeros (a WRITE_ZEROES that must not punch a hole). */
  enum Zero implements Source {
    INSTANCE;

    @Override
    public Source advance(long delta) {
      return this;
    }

    @Override
    public String toString() {
      return "zero";
    }
  }

  /** Bytes at {@code offset} of the immutable object {@code key}. */
  record Stored(String key, long offset) implements Source {
    public Stored {
      Objects.requireNonNull(key, "key");
      if (offset < 0) {
        throw new IllegalArgumentException("negative object offset " + offset);
      }
    }

    @Override
    public Source advance(long delta) {
      return new Stored(key, offset + delta);
    }

    /** True when this reference continues exactly where {@code previous} of length ends. */
    boolean continues(Stored previous, long previousLength) {
      return key.equals(previous.key) && offset == previous.offset + previousLength;
    }

    @Override
    public String toString() {
      return key + "@" + offset;
    }
  }
}
