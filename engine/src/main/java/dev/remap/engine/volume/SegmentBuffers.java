package dev.remap.engine.volume;

import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import dev.remap.engine.journal.Journal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The memory a volume's segments are put together in, kept from one segment to the next: a
 * direct buffer the segment is assembled and written from, and a small one that reads of the
 * journal land in.
 *
 * <p>Why: a segment used to be a new heap array (zeroed by the JVM), filled with copies of heap
 * arrays (zeroed too) that the journal had been read into through the JDK's own temporary direct
 * buffer, and written out through that temporary buffer again: four passes over every byte in
 * user space, two of them clearing memory, besides the kernel's two copies. A profile of the
 * upload thread under 4 KiB random writes had 35% of it in those copies and clearing. Here a
 * journal run is read into direct memory and its pieces copied once into the segment, a piece
 * alone in its run is read straight into its place, the checksum is taken and the file written
 * from the same memory. Direct buffers cost no more than before: the JDK kept a temporary
 * direct buffer of the largest read or write per thread anyway.
 *
 * <p>A store must not keep a buffer it was given after its put returns (neither store does):
 * the next segment overwrites it.
 *
 * <p>Threads: the volume's upload thread only (the cleaner writes its segments on it too).
 */
final class SegmentBuffers {

  /** Gaps up to this (record headers, parts a later write replaced) are read through. */
  static final int READ_THROUGH = 64 << 10;
  /** The most one read of the journal takes, and the size of the buffer it lands in. */
  static final int RUN = 1 << 20;
  /** A segment larger than this (a batch of very large records) gets a heap buffer of its own. */
  private static final long LARGEST_KEPT = 64L << 20;
  /** Kept buffers grow in steps of this, so that segments a little larger than the last reuse it. */
  private static final int GROWTH = 1 << 20;

  private ByteBuffer segment = ByteBuffer.allocateDirect(0);
  private ByteBuffer run;

  /** A buffer for a segment of length bytes: position 0, limit length, contents undefined. */
  ByteBuffer segment(long length) {
    if (length > LARGEST_KEPT) {
      return ByteBuffer.allocate(Math.toIntExact(length));
    }
    if (segment.capacity() < length) {
      segment = ByteBuffer.allocateDirect((int) ((length + GROWTH - 1) / GROWTH * GROWTH));
    }
    return segment.clear().limit((int) length);
  }

  /** A segment with payloads (their remaining bytes, in order) after a header of headerLength, not written yet. */
  ByteBuffer withPayloads(int headerLength, List<ByteBuffer> payloads) {
    long length = headerLength;
    for (ByteBuffer p : payloads) {
      length += p.remaining();
    }
    ByteBuffer out = segment(length);
    out.position(headerLength);
    for (ByteBuffer p : payloads) {
      out.put(p.duplicate());
    }
    return out.flip();
  }

  /**
   * A segment with the journaled pieces' bytes (each a {@link Source.Journaled}, in order) after a
   * header of headerLength, not written yet. Neighbouring pieces lie one after the other in a
   * journal file, a record header apart (in batch order): one read per run of them, not one per
   * piece (2,048 per segment of 4 KiB writes). The upload thread alone retires journal files, so
   * the locations stay readable.
   */
  ByteBuffer fromJournal(int headerLength, List<Span> pieces, Journal journal) throws IOException {
    long length = headerLength;
    for (Span piece : pieces) {
      length += piece.length();
    }
    ByteBuffer out = segment(length);
    int at = headerLength;
    int i = 0;
    while (i < pieces.size()) {
      Source.Journaled start = (Source.Journaled) pieces.get(i).source();
      long end = start.offset() + pieces.get(i).length();
      int j = i + 1;
      while (j < pieces.size()) {
        Source.Journaled next = (Source.Journaled) pieces.get(j).source();
        long nextEnd = next.offset() + pieces.get(j).length();
        if (!next.file().equals(start.file()) || next.offset() < end || next.offset() - end > READ_THROUGH
            || nextEnd - start.offset() > RUN) {
          break;
        }
        end = nextEnd;
        j++;
      }
      if (j == i + 1) {
        // Alone in its run (or larger than a run): read straight into its place.
        int pieceLength = (int) pieces.get(i).length();
        journal.read(start, out.duplicate().limit(at + pieceLength).position(at));
        at += pieceLength;
      } else {
        ByteBuffer read = runBuffer().limit((int) (end - start.offset()));
        journal.read(start, read);
        for (int k = i; k < j; k++) {
          Span piece = pieces.get(k);
          int from = (int) (((Source.Journaled) piece.source()).offset() - start.offset());
          out.put(at, read, from, (int) piece.length());
          at += (int) piece.length();
        }
      }
      i = j;
    }
    return out.position(0).limit(at);
  }

  private ByteBuffer runBuffer() {
    if (run == null) {
      run = ByteBuffer.allocateDirect(RUN);
    }
    return run.clear();
  }
}
