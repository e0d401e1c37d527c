package dev.remap.engine.volume;

import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.journal.Journal;
import java.io.IOException;
import java.util.List;

/**
 * What a volume's {@link Uploader} and {@link SegmentWriter} need of it, and nothing more: they
 * pack a segment from the journaled changes alone ({@link dev.remap.engine.core.SegmentPacking})
 * and hand back what they committed (the log-worker shape), and never touch the volume's tables
 * or locks themselves. {@link VolumeUploadHost} is the volume's.
 */
interface UploadHost {

  /** What to put in the next segment: its entries, and for each DATA entry where its bytes are now. */

  String name();

  String volumeId();

  /** Why this process may no longer write the volume's segments (another owner took it), or null. */
  String fencedReason();

  /** Does this process own the volume now? */
  boolean owned();

  /** Is the lease still this process's (asked of the store)? */
  boolean stillOwned() throws IOException;

  /** Another owner wrote the volume: this process stops serving it. */
  void lost(String why);

  /**
   * Moves the mapping onto a segment now in the store (see {@link Volume#commit}). The journal
   * keeps the segment's records: the segment may not be durable yet (see {@link #retire}).
   */
  void commit(String key, SegmentFormat.Header header, List<Uploader.Move> moves) throws IOException;

  /**
   * Retires the journal's files whose records all have seq ≤ uptoSeq, which durable segments now
   * hold: taken out under the map lock (no reader resolves into them any more), unlinked after.
   */
  void retire(Journal journal, long uptoSeq) throws IOException;

  /** The stored table encoded as the checkpoint after segment segmentSeq and journal record journalSeq. */
  byte[] checkpoint(long segmentSeq, long journalSeq);
}
