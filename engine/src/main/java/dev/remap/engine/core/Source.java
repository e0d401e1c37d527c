package dev.remap.engine.core;

import java.util.Objects;

/**
 * Where the bytes of a mapped range come from. A range nobody wrote is a {@link Hole}; a range
 * explicitly zeroed without deallocation is {@link Zero}; a write waiting for upload is
 * {@link Journaled}, in a local journal file of the volume's owner; everything else is
 * {@link Stored} at an offset of an immutable object in the store. Because objects never change,
 * a {@code Stored} reference is valid as long as its object exists, which is what lets snapshots
 * and clones share data without copying it. A {@code Journaled} reference is valid only in the
 * owner's live table and never persisted (checkpoints and manifests refuse it).
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

  /** Bytes at {@code offset} of the local journal file {@code file} (not yet in the store). */
  record Journaled(String file, long offset) implements Source {
    public Journaled {
      Objects.requireNonNull(file, "file");
      if (offset < 0) {
        throw new IllegalArgumentException("negative journal offset " + offset);
      }
    }

    @Override
    public Source advance(long delta) {
      return new Journaled(file, offset + delta);
    }

    /** True when this reference continues exactly where {@code previous} of length ends. */
    boolean continues(Journaled previous, long previousLength) {
      return file.equals(previous.file) && offset == previous.offset + previousLength;
    }

    @Override
    public String toString() {
      return "journal:" + file + "@" + offset;
    }
  }

  /** Whether next's bytes follow previous's (of previousLength) in the same file or object. */
  static boolean continuous(Source previous, long previousLength, Source next) {
    if (previous instanceof Stored a) {
      return next instanceof Stored b && b.continues(a, previousLength);
    }
    if (previous instanceof Journaled a) {
      return next instanceof Journaled b && b.continues(a, previousLength);
    }
    return false;
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
