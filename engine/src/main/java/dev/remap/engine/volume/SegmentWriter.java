package dev.remap.engine.volume;

import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.core.Source;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a volume's segments and checkpoints to the store, numbered on from the last one, and
 * hands each segment's mapping change to its host. Segments are written put-if-absent, so a
 * segment of the same number from another owner (whose lease this node lost while it could not
 * renew it) is never overwritten.
 *
 * <p>Threads: only the volume's upload thread calls it, except {@link #continueFrom} (under the
 * uploader's lock, with the thread idle) and the last checkpoint at close (after the thread has
 * stopped); the counters are read from anywhere.
 */
final class SegmentWriter {

  private final UploadHost host;
  private final ObjectStore store;
  private final int checkpointEvery;
  private long nextSegment;
  private long uploadedSeq;
  private int sinceCheckpoint;
  private final AtomicLong segments = new AtomicLong();
  private final AtomicLong uploaded = new AtomicLong();

  SegmentWriter(UploadHost host, ObjectStore store, int checkpointEvery, long lastSegment, long uploadedSeq) {
    this.host = host;
    this.store = store;
    this.checkpointEvery = checkpointEvery;
    this.nextSegment = lastSegment + 1;
    this.uploadedSeq = uploadedSeq;
  }

  /** Continues after another owner's segments and journal numbers (the volume was taken back). */
  void continueFrom(long lastSegment, long storedJournalSeq) {
    nextSegment = lastSegment + 1;
    uploadedSeq = storedJournalSeq;
    sinceCheckpoint = 0;
  }

  long segmentsWritten() {
    return segments.get();
  }

  /** Segment bytes written to the store, cleaning included. */
  long bytesUploaded() {
    return uploaded.get();
  }

  /**
   * Writes the next segment, then moves the mapping onto it: the live table where it still points
   * at each move's source, the stored table by applying the segment. A cleaning step's segment
   * covers no journal record: it carries the last uploaded number as both bounds.
   */
  void write(List<SegmentFormat.Entry> entries, List<ByteBuffer> payloads, List<Uploader.Move> moves,
      long firstJournalSeq, long lastJournalSeq) throws IOException {
    long seq = nextSegment;
    String key = StoreLayout.segment(host.volumeId(), seq);
    ByteBuffer segment = SegmentFormat.encode(seq, firstJournalSeq, lastJournalSeq, entries, payloads);
    if (!store.putIfAbsent(key, segment)) {
      // A segment of this number exists: an earlier attempt of ours whose answer was lost, or
      // another owner's, if this node's lease was taken while it could not renew it.
      if (!host.stillOwned()) {
        host.lost("volume " + host.name() + " has a segment " + key + " written by another owner");
        throw new IOException("segment " + key + " belongs to another owner of volume " + host.name());
      }
      store.put(key, segment);
    }
    SegmentFormat.Header header = SegmentFormat.parse(segment, key);
    List<Uploader.Move> placed = new ArrayList<>(moves.size());
    int m = 0;
    for (SegmentFormat.Entry entry : header.entries()) {
      if (entry.kind() == SegmentFormat.Kind.DATA) {
        Uploader.Move move = moves.get(m++);
        placed.add(new Uploader.Move(move.offset(), move.length(), move.from(),
            new Source.Stored(key, entry.dataOffset())));
      }
    }
    host.commit(key, header, placed, lastJournalSeq);
    nextSegment = seq + 1;
    uploadedSeq = lastJournalSeq;
    segments.incrementAndGet();
    uploaded.addAndGet(segment.limit());
    if (++sinceCheckpoint >= checkpointEvery) {
      checkpoint();
    }
  }

  /** A cleaning step's segment (see {@link SegmentCleaner}): only while this process owns the volume. */
  void writeCleaned(List<SegmentFormat.Entry> entries, List<ByteBuffer> payloads, List<Uploader.Move> moves)
      throws IOException {
    if (host.fencedReason() != null || !host.owned()) {
      throw new IOException("volume " + host.name() + " is not owned here any more");
    }
    write(entries, payloads, moves, uploadedSeq, uploadedSeq);
  }

  /** A checkpoint if segments were written since the last one. */
  void checkpointIfBehind() throws IOException {
    if (sinceCheckpoint > 0) {
      checkpoint();
    }
  }

  /** Persists the stored table so that opening the volume need not replay every segment. */
  private void checkpoint() throws IOException {
    long seq = nextSegment - 1;
    byte[] encoded = host.checkpoint(seq, uploadedSeq);
    store.put(StoreLayout.checkpoint(host.volumeId(), seq), ByteBuffer.wrap(encoded));
    sinceCheckpoint = 0;
    List<String> older = new ArrayList<>();
    for (ObjectInfo info : store.list(StoreLayout.checkpointPrefix(host.volumeId()))) {
      if (StoreLayout.seqOf(info.key()) < seq) {
        older.add(info.key());
      }
    }
    store.deleteAll(older);
  }
}
