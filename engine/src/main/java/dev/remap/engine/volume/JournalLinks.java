package dev.remap.engine.volume;

import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.core.SegmentPacking;
import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.journal.JournalRecord;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writing large writes once: where the store can adopt a journal file as it is ({@link
 * ObjectStore#adoptLazily}, the file store: a second name for the file), a segment maps a large
 * write's bytes to the journal record that holds them (a LINKED entry, {@link SegmentFormat})
 * instead of copying them into itself. The upload then neither reads those bytes back nor writes
 * them again: 1 MiB writes cost the upload thread about twice what the journal's append did, and
 * the disk took every byte twice (docs/BENCHMARKS.md, "Writing once").
 *
 * <p>Only a write whose record no later change of the batch cut ({@link SegmentPacking} left it
 * whole) and whose payload is at least {@link #SMALLEST} bytes is linked: small writes are packed
 * as before, since a segment of 4 KiB writes copies little and a journal file that is never
 * adopted stays a spare the next roll writes over ({@code JournalSpares}: a FLUSH then syncs data
 * alone). A journal file is adopted once, under the name of the first segment that links to it
 * ({@link StoreLayout#segmentData}); the later segments of its records name the same object.
 *
 * <p>Durability: the adopted file is written lazily like a segment (the journal syncs it only on a
 * FLUSH), so every segment that links to it puts its key among those the next barrier syncs. Each
 * LINKED entry carries its record's checksum: an open reads the record whole before it keeps a
 * segment no barrier covered ({@link SegmentRecovery}). The journal never writes over an adopted
 * file (it neither keeps it as a spare nor appends to it after an open, and cuts a torn tail by
 * copying), so bytes a segment maps stay as they were written.
 *
 * <p>Threads: the volume's upload thread only.
 */
final class JournalLinks {

  /** Writes at least this large are linked; smaller ones are copied into the segment. */
  static final int SMALLEST = 64 << 10;

  /** A segment's entries with the large writes linked, and what is still copied into it. */
  record Linked(List<SegmentFormat.Entry> entries, List<Span> copied, List<Uploader.Move> moves,
      List<String> objects, long linkedBytes) {}

  private final ObjectStore store;
  private final String volumeId;
  /** The object each journal file was adopted as (null: it could not be), while the journal holds it. */
  private final Map<String, String> adopted = new HashMap<>();
  private boolean enabled;
  /** The journal the adopted files are in (from the first link on). */
  private Journal journal;

  JournalLinks(ObjectStore store, String volumeId) {
    this.store = store;
    this.volumeId = volumeId;
    this.enabled = store.defersDurability() && Boolean.parseBoolean(System.getProperty("remap.linkWrites", "true"));
  }

  /**
   * The segment numbered segmentSeq for a packed batch: each DATA entry that is a whole large write
   * becomes a LINKED entry, the others stay DATA (their spans, in order, are what is copied).
   * moves are in entry order, for DATA and LINKED entries alike (a LINKED move already has its
   * destination).
   */
  Linked link(SegmentPacking.Packed packed, List<Journal.Appended> batch, Journal journal, long segmentSeq)
      throws IOException {
    this.journal = journal;
    forgetRetired(journal);
    Map<Source.Journaled, JournalRecord> large = new HashMap<>();
    if (enabled) {
      for (Journal.Appended appended : batch) {
        if (appended.payload() != null && appended.record().length() >= SMALLEST) {
          large.put(appended.payload(), appended.record());
        }
      }
    }
    List<SegmentFormat.Entry> entries = new ArrayList<>(packed.entries().size());
    List<Span> copied = new ArrayList<>(packed.data().size());
    List<Uploader.Move> moves = new ArrayList<>(packed.data().size());
    Map<String, Integer> objects = new LinkedHashMap<>();
    Map<String, String> linkedNow = new HashMap<>();
    long linkedBytes = 0;
    int d = 0;
    for (SegmentFormat.Entry entry : packed.entries()) {
      if (entry.kind() != SegmentFormat.Kind.DATA) {
        entries.add(entry);
        continue;
      }
      Span piece = packed.data().get(d++);
      JournalRecord record = large.get(piece.source());
      String object = null;
      int crc = 0;
      if (record != null && record.offset() == piece.offset() && record.length() == piece.length()) {
        Source.Journaled at = (Source.Journaled) piece.source();
        object = adopt(at, journal, segmentSeq, linkedNow);
        if (object != null) {
          crc = recordCrc(at, record, journal);
        }
      }
      if (object == null) {
        entries.add(entry);
        copied.add(piece);
        moves.add(new Uploader.Move(piece.offset(), piece.length(), piece.source(), null));
        continue;
      }
      Source.Journaled at = (Source.Journaled) piece.source();
      int index = objects.computeIfAbsent(object, k -> objects.size());
      entries.add(SegmentFormat.Entry.linked(piece.offset(), piece.length(), index, at.offset(), crc));
      moves.add(new Uploader.Move(piece.offset(), piece.length(), at, new Source.Stored(object, at.offset())));
      linkedBytes += piece.length();
    }
    return new Linked(entries, copied, moves, List.copyOf(objects.keySet()), linkedBytes);
  }

  /**
   * The objects of journal files the journal still holds: part of each is records not uploaded
   * yet, which the cleaner must not take for dead bytes.
   */
  Set<String> filling() {
    if (journal != null) {
      forgetRetired(journal);
    }
    Set<String> keys = new HashSet<>();
    adopted.values().forEach(key -> {
      if (key != null) {
        keys.add(key);
      }
    });
    return keys;
  }

  /** Forgets the files the journal no longer holds (they were retired): upload thread. */
  private void forgetRetired(Journal journal) {
    adopted.keySet().removeIf(file -> !journal.holds(file));
  }

  /**
   * The object the record's journal file is adopted as, adopting it if needed; null to copy. Asked
   * of the store again by every segment that links to the file ({@code linkedNow}: once per
   * segment), which makes the name again if garbage collection took it meanwhile (its records all
   * overwritten) and makes it young, so that collection keeps it while this segment is new.
   */
  private String adopt(Source.Journaled at, Journal journal, long segmentSeq, Map<String, String> linkedNow)
      throws IOException {
    if (linkedNow.containsKey(at.file())) {
      return linkedNow.get(at.file());
    }
    String key = adopted.getOrDefault(at.file(), StoreLayout.segmentData(volumeId, segmentSeq));
    String object = adopted.containsKey(at.file()) && adopted.get(at.file()) == null ? null
        : store.adoptLazily(key, journal.pathOf(at)) ? key : null;
    adopted.put(at.file(), object);
    linkedNow.put(at.file(), object);
    return object;
  }

  /** The checksum of the record whose payload is at, read from its header; 0 never matches a header. */
  private static int recordCrc(Source.Journaled at, JournalRecord record, Journal journal) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(JournalRecord.HEADER);
    journal.read(new Source.Journaled(at.file(), at.offset() - JournalRecord.HEADER), header);
    var parsed = JournalRecord.parse(header.flip());
    if (parsed.isEmpty() || !parsed.get().record().equals(record)) {
      throw new IOException("journal file " + at.file() + " does not hold record " + record.seq() + " before "
          + at.offset());
    }
    return parsed.get().crc();
  }
}
