package dev.remap.engine.volume;

import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.core.SegmentPacking;
import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.journal.JournalRecord;
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
 * <p>Durability: on a store that {@linkplain ObjectStore#defersDurability defers it} (the file
 * store), segments are written lazily (no fsync) and made durable together by {@link #barrier},
 * which then records the newest durable segment in the volume's marker ({@link
 * StoreLayout#synced}). {@link #durableJournalSeq} is how far the journal may be retired: records
 * only in lazy segments must stay, because a power cut can tear those segments and the next open
 * replays the journal from the last intact one. Every checkpoint is preceded by a barrier, so a
 * checkpoint never references a segment that is not durable, and nothing garbage collection
 * frees because of it (older checkpoints, segments the cleaner emptied) is still needed after a
 * power cut. The cleaner's segments are written lazily too, for the same reason: the segments
 * they empty stay referenced by the newest checkpoint until the next one, which comes after a
 * barrier.
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
  /** Where segments are put together (upload thread only, as every segment is written there). */
  private final SegmentBuffers buffers = new SegmentBuffers();
  /** Large writes linked from the journal instead of copied (upload thread only). */
  private final JournalLinks links;
  /** Its own segments the volume knows are dead once unreferenced (marked at each checkpoint). */
  private final OwnGarbage ownGarbage;
  /** Segments written lazily since the last barrier (upload thread only). */
  private final List<String> lazy = new ArrayList<>();
  private volatile int unsynced;
  private volatile long durableJournalSeq;

  SegmentWriter(UploadHost host, ObjectStore store, int checkpointEvery, long lastSegment, long uploadedSeq) {
    this.host = host;
    this.store = store;
    this.checkpointEvery = checkpointEvery;
    this.nextSegment = lastSegment + 1;
    this.uploadedSeq = uploadedSeq;
    this.links = new JournalLinks(store, host.volumeId());
    this.ownGarbage = new OwnGarbage(host.volumeId());
    // What the load found is durable: it verified and synced the segments a crash left unsynced.
    this.durableJournalSeq = uploadedSeq;
  }

  /** Continues after another owner's segments and journal numbers (the volume was taken back). */
  void continueFrom(long lastSegment, long storedJournalSeq) {
    nextSegment = lastSegment + 1;
    uploadedSeq = storedJournalSeq;
    durableJournalSeq = storedJournalSeq;
    lazy.clear();
    unsynced = 0;
    sinceCheckpoint = 0;
    ownGarbage.forget();
  }

  /** Whether segments are durable only after a barrier (the store writes them lazily). */
  boolean defersDurability() {
    return store.defersDurability();
  }

  /** Segments written since the last barrier, not durable yet. */
  int unsyncedSegments() {
    return unsynced;
  }

  /** Journal records up to this number are in segments, durable or not (upload thread). */
  long uploadedJournalSeq() {
    return uploadedSeq;
  }

  /** Journal records up to this number are in durable segments. */
  long durableJournalSeq() {
    return durableJournalSeq;
  }

  /**
   * Makes every segment written so far durable and records that in the volume's marker; an open
   * keeps a segment after the marker only if it is whole, with every one before it
   * (SegmentRecovery). Then everything uploaded so far is durable.
   *
   * <p>The journal is not synced here: only a FLUSH or FUA syncs it. A segment holds its batch as
   * of the batch's last record ({@link SegmentPacking}), so a durable segment needs no journal
   * record to be right; where a power cut took journal records a durable segment holds, the open
   * numbers new records on from the store's newest, and the journal's recovery accepts that jump
   * (the store holds what lies between): the same state a whole unsynced segment kept at open
   * leaves. {@code BarrierSyncPowerCutTest} cuts the power right after a barrier and checks that a
   * write flushed afterwards survives the next crash. A sync here cost the upload thread an fsync
   * of every journal file per barrier, and wrote to the disk journal bytes that were about to be
   * retired: the journal's files are written over, so unsynced journal pages often never reach it.
   */
  void barrier() throws IOException {
    if (!lazy.isEmpty()) {
      store.syncLazy(lazy);
      if (host.fencedReason() == null) {
        // Another owner numbers on after what it loaded: this owner's marker would be stale there.
        store.put(StoreLayout.synced(host.volumeId()), encodeMarker(nextSegment - 1));
      }
      lazy.clear();
      unsynced = 0;
    }
    durableJournalSeq = uploadedSeq;
  }

  /** The marker's content: the newest segment known durable. */
  static ByteBuffer encodeMarker(long segmentSeq) {
    return ByteBuffer.allocate(Long.BYTES).putLong(segmentSeq).flip();
  }

  static long decodeMarker(byte[] marker, String key) throws IOException {
    if (marker.length != Long.BYTES) {
      throw new IOException("the durable marker " + key + " is damaged (" + marker.length + " bytes)");
    }
    return ByteBuffer.wrap(marker).getLong();
  }

  /** The adopted journal files the journal still appends to or holds (upload thread). */
  java.util.Set<String> filling() {
    return links.filling();
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
    ByteBuffer segment = buffers.withPayloads(SegmentFormat.headerLength(entries.size()), payloads);
    writeSealed(segment, entries, List.of(), moves, firstJournalSeq, lastJournalSeq);
  }

  /**
   * {@link #write} of a segment whose data is in place after room for its header; its LINKED
   * entries name objects (see {@link JournalLinks}). moves are in entry order, for its DATA and
   * LINKED entries.
   */
  private void writeSealed(ByteBuffer segment, List<SegmentFormat.Entry> entries, List<String> objects,
      List<Uploader.Move> moves, long firstJournalSeq, long lastJournalSeq) throws IOException {
    long seq = nextSegment;
    String key = StoreLayout.segment(host.volumeId(), seq);
    SegmentFormat.Header header = SegmentFormat.seal(segment, seq, firstJournalSeq, lastJournalSeq, entries, objects);
    boolean deferred = store.defersDurability();
    if (!store.putIfAbsentLazily(key, segment)) {
      // A segment of this number exists: an earlier attempt of ours whose answer was lost, or
      // another owner's, if this node's lease was taken while it could not renew it.
      if (!host.stillOwned()) {
        host.lost("volume " + host.name() + " has a segment " + key + " written by another owner");
        throw new IOException("segment " + key + " belongs to another owner of volume " + host.name());
      }
      store.put(key, segment);
    }
    List<Uploader.Move> placed = new ArrayList<>(moves.size());
    int m = 0;
    long linkedBytes = 0;
    for (SegmentFormat.Entry entry : header.entries()) {
      if (entry.kind() == SegmentFormat.Kind.DATA) {
        Uploader.Move move = moves.get(m++);
        placed.add(new Uploader.Move(move.offset(), move.length(), move.from(),
            new Source.Stored(key, entry.dataOffset())));
      } else if (entry.kind() == SegmentFormat.Kind.LINKED) {
        placed.add(moves.get(m++));
        linkedBytes += entry.length();
      }
    }
    host.commit(key, header, placed);
    nextSegment = seq + 1;
    uploadedSeq = lastJournalSeq;
    if (deferred) {
      lazy.add(key);
      for (String object : objects) {
        // Linked bytes are the journal's, synced only by a FLUSH: this barrier syncs them too.
        if (!lazy.contains(object)) {
          lazy.add(object);
        }
      }
      unsynced = lazy.size();
    } else {
      durableJournalSeq = uploadedSeq;
    }
    segments.incrementAndGet();
    uploaded.addAndGet(segment.remaining() + linkedBytes);
    if (++sinceCheckpoint >= checkpointEvery) {
      checkpoint();
    }
  }

  /**
   * Packs a batch of journaled changes ({@link SegmentPacking}: the volume as of its last change)
   * and writes it as the next segment.
   *
   * @return the bytes of client data the segment holds
   */
  long writeBatch(List<Journal.Appended> batch, Journal from) throws IOException {
    if (!store.defersDurability()) {
      // A store durable at once (S3): the journal holds the batch durably before the store does,
      // so the store never holds journal numbers the journal lost. JournalPowerCutTest found that
      // loss when the journal's recovery took the jump it leaves for a torn tail; the recovery
      // accepts that jump now (see barrier, which no longer syncs the journal on the file store),
      // so on S3 this sync is kept as a margin on a path whose PUTs cost far more than it.
      from.sync();
    }
    List<SegmentPacking.Change> changes = new ArrayList<>(batch.size());
    for (Journal.Appended appended : batch) {
      JournalRecord r = appended.record();
      SegmentFormat.Kind kind = switch (r.type()) {
        case WRITE -> SegmentFormat.Kind.DATA;
        case ZERO -> SegmentFormat.Kind.ZERO;
        case TRIM -> SegmentFormat.Kind.TRIM;
      };
      changes.add(new SegmentPacking.Change(kind, r.offset(), r.length(), appended.payload()));
    }
    long first = batch.get(0).record().seq();
    long last = batch.get(batch.size() - 1).record().seq();
    JournalLinks.Linked linked = links.link(SegmentPacking.pack(changes), batch, from, nextSegment);
    return writeFromJournal(linked, from, first, last);
  }

  /**
   * Writes a packed segment: the entries, the data not linked read from the journal straight into
   * the buffer the segment is written from ({@link SegmentBuffers}).
   *
   * @return the bytes of client data the segment holds, linked or copied
   */
  private long writeFromJournal(JournalLinks.Linked linked, Journal from, long firstJournalSeq, long lastJournalSeq)
      throws IOException {
    long payloadBytes = linked.linkedBytes();
    for (Span piece : linked.copied()) {
      payloadBytes += piece.length();
    }
    int headerLength = SegmentFormat.headerLength(linked.entries().size(), linked.objects());
    ByteBuffer segment = buffers.fromJournal(headerLength, linked.copied(), from);
    writeSealed(segment, linked.entries(), linked.objects(), linked.moves(), firstJournalSeq, lastJournalSeq);
    return payloadBytes;
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
    // The checkpoint references these segments, and once it is written garbage collection may
    // delete what they replaced: they must be durable first.
    barrier();
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
    ownGarbage.checkpointed(seq, links.filling());
  }

  OwnGarbage ownGarbage() {
    return ownGarbage;
  }
}
