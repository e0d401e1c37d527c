package dev.remap.engine.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A data segment: one immutable store object that packs many writes (log-structured), so that
 * 4 KiB random writes cost one store request per several MiB, not one per block. Its header says
 * which volume ranges it changes, so the mapping can be rebuilt from the segments alone. Pure.
 *
 * <pre>
 * "RMS1" u32 version=2 u32 headerLength
 * u64 seq (per volume, from 1) u64 firstJournalSeq u64 lastJournalSeq
 * u32 entryCount, entryCount x (u8 kind 1=data 2=zero 3=trim, u64 volumeOffset, u64 length,
 *                               u64 dataOffset from the segment start, 0 unless data)
 * u32 CRC-32C of the data (version 2 only)
 * u32 CRC-32C of the header before it
 * data (from headerLength on: the DATA entries' bytes in entry order, nothing after them)
 * </pre>
 * Version 2 checksums the data too, so that a segment torn by a power cut can be told from a whole
 * one ({@link #verify}; an open drops every version 2 segment no barrier made durable, torn or
 * not); version 1 segments (written before, always fsynced) are still read, and verified by their
 * length only.
 *
 * <p>Version 3 (written only by a segment that has LINKED entries) can also map ranges to bytes of
 * other objects of the store, written once and not copied: the journal files a file store adopted
 * as they are ({@code SegmentWriter}). After the entry count it names them, and each entry carries
 * two more fields:
 * <pre>
 * u16 objectCount, objectCount x (u16 length, UTF-8 key)
 * entries: u8 kind (4=linked), u64 volumeOffset, u64 length, u64 dataOffset, u16 object, u32 crc
 * </pre>
 * A LINKED entry's bytes are at dataOffset of the object it names: the whole payload of a journal
 * record whose header lies just before them and whose checksum is crc, which is how an open tells
 * them from bytes a power cut lost ({@link #verify} checks the segment itself; the reader of the
 * linked objects checks the records). DATA entries of version 3 carry 0 in both fields.
 */
public final class SegmentFormat {

  private static final int MAGIC = 0x524d5331; // "RMS1"
  private static final int VERSION = 2;
  private static final int VERSION_WITHOUT_DATA_CRC = 1;
  private static final int VERSION_LINKED = 3;
  private static final int FIXED = 4 + 4 + 4 + 8 + 8 + 8 + 4;
  private static final int ENTRY = 1 + 8 + 8 + 8;
  private static final int LINKED_ENTRY = ENTRY + 2 + 4;
  /** Enough to read the header of a segment of up to about 10,000 entries in one request. */
  public static final int HEADER_PROBE = 256 << 10;

  public enum Kind { DATA, ZERO, TRIM, LINKED }

  /**
   * One change: for DATA, the bytes are at dataOffset of the segment; for LINKED, at dataOffset of
   * the header's object number {@code object}, a journal record's payload whose checksum is crc.
   */
  public record Entry(Kind kind, long volumeOffset, long length, long dataOffset, int object, int crc) {
    public Entry(Kind kind, long volumeOffset, long length, long dataOffset) {
      this(kind, volumeOffset, length, dataOffset, 0, 0);
    }

    /** Bytes of a journal record in an object the store adopted (see the class comment). */
    public static Entry linked(long volumeOffset, long length, int object, long dataOffset, int crc) {
      return new Entry(Kind.LINKED, volumeOffset, length, dataOffset, object, crc);
    }
  }

  /**
   * A parsed header; dataCrc is the CRC-32C of the data, checked by {@link #verify} (version 2; in
   * version 1 segments, which have none, it is 0).
   */
  public record Header(long seq, long firstJournalSeq, long lastJournalSeq, List<Entry> entries, int headerLength,
      int version, int dataCrc, List<String> objects) {

    /** The key of the object a LINKED entry's bytes are in. */
    public String objectOf(Entry linked) {
      return objects.get(linked.object());
    }

    /**
     * Whether the segment was written by a build that synced every segment before going on
     * (version 1): such a segment is durable whether or not a durable marker covers it.
     */
    public boolean syncedWhenWritten() {
      return version == VERSION_WITHOUT_DATA_CRC;
    }

    /** The segment's whole length: its header and the bytes of its DATA entries. */
    public long segmentLength() {
      long length = headerLength;
      for (Entry e : entries) {
        if (e.kind() == Kind.DATA) {
          length += e.length();
        }
      }
      return length;
    }
  }

  /** A segment whose bytes are not what it was written with: torn, cut short or damaged. */
  public static final class DamagedSegmentException extends IOException {
    public DamagedSegmentException(String message) {
      super(message);
    }
  }

  private SegmentFormat() {}

  public static int headerLength(int entryCount) {
    return headerLength(entryCount, VERSION, List.of());
  }

  /** The header's length with the objects LINKED entries name (none: a version 2 header). */
  public static int headerLength(int entryCount, List<String> objects) {
    return headerLength(entryCount, objects.isEmpty() ? VERSION : VERSION_LINKED, objects);
  }

  private static int headerLength(int entryCount, int version, List<String> objects) {
    if (version != VERSION_LINKED) {
      return FIXED + entryCount * ENTRY + (version == VERSION ? 8 : 4);
    }
    int names = 2;
    for (String key : objects) {
      names += 2 + key.getBytes(StandardCharsets.UTF_8).length;
    }
    return FIXED + names + entryCount * LINKED_ENTRY + 8;
  }

  /**
   * Encodes a segment. changes are in journal order; for DATA the payload buffers are given in
   * the same order (their remaining bytes, length each).
   */
  public static ByteBuffer encode(long seq, long firstJournalSeq, long lastJournalSeq,
      List<Entry> changes, List<ByteBuffer> payloads) {
    int headerLength = headerLength(changes.size());
    long total = headerLength;
    for (ByteBuffer p : payloads) {
      total += p.remaining();
    }
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(total));
    out.position(headerLength);
    int payload = 0;
    for (Entry change : changes) {
      if (change.kind() == Kind.DATA) {
        ByteBuffer p = payloads.get(payload++);
        if (p.remaining() != change.length()) {
          throw new IllegalArgumentException("payload length differs from entry length " + change.length());
        }
        out.put(p.duplicate());
      }
    }
    out.flip();
    seal(out, seq, firstJournalSeq, lastJournalSeq, changes);
    return out;
  }

  /**
   * Writes the header of a segment whose data is in place already: segment runs from its position
   * to its limit, and from {@link #headerLength}(changes.size()) on holds the DATA entries' bytes
   * in entry order, nothing after them. This lets the writer read data straight from the journal
   * into the buffer the segment is written from, instead of into buffers of its own that are then
   * copied ({@link #encode} is the same for payloads already in memory). The entries' data
   * offsets are computed here (theirs are ignored). Position and limit are left as they are.
   *
   * @return the header, as {@link #parse} reads it back
   */
  public static Header seal(ByteBuffer segment, long seq, long firstJournalSeq, long lastJournalSeq,
      List<Entry> changes) {
    return seal(segment, seq, firstJournalSeq, lastJournalSeq, changes, List.of());
  }

  /**
   * {@link #seal} of a segment whose LINKED entries name objects (a version 3 header, whose
   * length is {@link #headerLength(int, List)}); with none, the same as {@link #seal}. A LINKED
   * entry keeps its data offset, object and checksum.
   */
  public static Header seal(ByteBuffer segment, long seq, long firstJournalSeq, long lastJournalSeq,
      List<Entry> changes, List<String> objects) {
    int version = objects.isEmpty() ? VERSION : VERSION_LINKED;
    int headerLength = headerLength(changes.size(), version, objects);
    List<Entry> placed = new ArrayList<>(changes.size());
    long dataOffset = headerLength;
    for (Entry change : changes) {
      if (change.kind() == Kind.LINKED) {
        if (change.object() < 0 || change.object() >= objects.size()) {
          throw new IllegalArgumentException("a linked entry names object " + change.object() + " of "
              + objects.size());
        }
        placed.add(change);
        continue;
      }
      long at = 0;
      if (change.kind() == Kind.DATA) {
        at = dataOffset;
        dataOffset += change.length();
      }
      placed.add(new Entry(change.kind(), change.volumeOffset(), change.length(), at));
    }
    if (dataOffset != segment.remaining()) {
      throw new IllegalArgumentException("a segment of " + segment.remaining() + " bytes cannot hold a header of "
          + headerLength + " and " + (dataOffset - headerLength) + " bytes of data");
    }
    ByteBuffer data = segment.duplicate();
    data.position(segment.position() + headerLength);
    CRC32C dataCrc = new CRC32C();
    dataCrc.update(data);
    ByteBuffer out = segment.duplicate();
    out.putInt(MAGIC).putInt(version).putInt(headerLength)
        .putLong(seq).putLong(firstJournalSeq).putLong(lastJournalSeq).putInt(changes.size());
    if (version == VERSION_LINKED) {
      out.putShort((short) objects.size());
      for (String key : objects) {
        byte[] name = key.getBytes(StandardCharsets.UTF_8);
        out.putShort((short) name.length).put(name);
      }
    }
    for (Entry e : placed) {
      out.put((byte) (e.kind().ordinal() + 1)).putLong(e.volumeOffset()).putLong(e.length()).putLong(e.dataOffset());
      if (version == VERSION_LINKED) {
        out.putShort((short) e.object()).putInt(e.crc());
      }
    }
    out.putInt((int) dataCrc.getValue());
    ByteBuffer header = segment.duplicate();
    header.limit(out.position());
    CRC32C crc = new CRC32C();
    crc.update(header);
    out.putInt((int) crc.getValue());
    return new Header(seq, firstJournalSeq, lastJournalSeq, placed, headerLength, version, (int) dataCrc.getValue(),
        List.copyOf(objects));
  }

  /** The header length the prefix announces (read that many bytes, then {@link #parse}). */
  public static int announcedHeaderLength(ByteBuffer prefix, String what) throws IOException {
    ByteBuffer p = prefix.duplicate();
    if (p.remaining() < 12) {
      // A power cut can leave a lazily written segment empty or cut short.
      throw new DamagedSegmentException(what + " is cut short (" + p.remaining() + " bytes)");
    }
    int at = p.position();
    int version = p.getInt(at + 4);
    if (p.getInt(at) != MAGIC || version < VERSION_WITHOUT_DATA_CRC || version > VERSION_LINKED) {
      throw new DamagedSegmentException(what + " is not a Remap segment of a version this build reads");
    }
    return p.getInt(at + 8);
  }

  /** Parses a header from a buffer that starts at the segment's first byte and holds the header. */
  public static Header parse(ByteBuffer prefix, String what) throws IOException {
    int headerLength = announcedHeaderLength(prefix, what);
    ByteBuffer p = prefix.duplicate();
    int version = p.getInt(p.position() + 4);
    if (p.remaining() < headerLength || headerLength < FIXED + 4) {
      throw new DamagedSegmentException(what + " has a truncated header");
    }
    byte[] header = new byte[headerLength];
    p.get(header);
    CRC32C crc = new CRC32C();
    crc.update(header, 0, headerLength - 4);
    ByteBuffer h = ByteBuffer.wrap(header);
    if ((int) crc.getValue() != h.getInt(headerLength - 4)) {
      throw new DamagedSegmentException(what + " has a damaged header (checksum mismatch)");
    }
    h.position(12);
    long seq = h.getLong();
    long first = h.getLong();
    long last = h.getLong();
    int count = h.getInt();
    List<String> objects = new ArrayList<>();
    try {
      if (version == VERSION_LINKED) {
        int objectCount = Short.toUnsignedInt(h.getShort());
        for (int i = 0; i < objectCount; i++) {
          byte[] name = new byte[Short.toUnsignedInt(h.getShort())];
          h.get(name);
          objects.add(new String(name, StandardCharsets.UTF_8));
        }
      }
      if (count < 0 || headerLength != headerLength(count, version, objects)) {
        throw new DamagedSegmentException(what + " has an inconsistent header");
      }
    } catch (java.nio.BufferUnderflowException e) {
      throw new DamagedSegmentException(what + " has an inconsistent header");
    }
    List<Entry> entries = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int kind = h.get() - 1;
      if (kind < 0 || kind >= Kind.values().length || (kind == Kind.LINKED.ordinal() && version != VERSION_LINKED)) {
        throw new DamagedSegmentException(what + " has an entry of unknown kind " + (kind + 1));
      }
      long volumeOffset = h.getLong();
      long length = h.getLong();
      long dataOffset = h.getLong();
      int object = 0;
      int entryCrc = 0;
      if (version == VERSION_LINKED) {
        object = Short.toUnsignedInt(h.getShort());
        entryCrc = h.getInt();
        if (kind == Kind.LINKED.ordinal() && object >= objects.size()) {
          throw new DamagedSegmentException(what + " has an entry naming object " + object + " of " + objects.size());
        }
      }
      entries.add(new Entry(Kind.values()[kind], volumeOffset, length, dataOffset, object, entryCrc));
    }
    int dataCrc = version == VERSION_WITHOUT_DATA_CRC ? 0 : h.getInt();
    return new Header(seq, first, last, entries, headerLength, version, dataCrc, List.copyOf(objects));
  }

  /**
   * Checks a whole segment (from its first byte to its end) against what it was written with:
   * header, length and, from version 2 on, the checksum of its data. Returns its header.
   *
   * @throws DamagedSegmentException if any of them differs (a segment torn by a power cut)
   */
  public static Header verify(ByteBuffer segment, String what) throws IOException {
    Header header = parse(segment, what);
    ByteBuffer s = segment.duplicate();
    if (s.remaining() != header.segmentLength()) {
      throw new DamagedSegmentException(what + " is " + s.remaining() + " bytes long, not the "
          + header.segmentLength() + " its header announces");
    }
    if (header.version() != VERSION_WITHOUT_DATA_CRC) {
      CRC32C crc = new CRC32C();
      s.position(s.position() + header.headerLength());
      crc.update(s);
      if ((int) crc.getValue() != header.dataCrc()) {
        throw new DamagedSegmentException(what + " has damaged data (checksum mismatch)");
      }
    }
    return header;
  }

  /** Applies a segment's changes to a table, as the upload of those changes did. */
  public static void apply(Header header, String segmentKey, MappingTable table) {
    // In journal order, as the uploads were: where entries overlap, the later one wins.
    table.putAll(changes(header, segmentKey));
  }

  /** A segment's changes as puts, in entry order (applied in that order, the later wins where they overlap). */
  public static List<Span> changes(Header header, String segmentKey) {
    List<Span> changes = new ArrayList<>(header.entries().size());
    for (Entry e : header.entries()) {
      Source source = switch (e.kind()) {
        case DATA -> new Source.Stored(segmentKey, e.dataOffset());
        case LINKED -> new Source.Stored(header.objectOf(e), e.dataOffset());
        case ZERO -> Source.Zero.INSTANCE;
        case TRIM -> Source.Hole.INSTANCE;
      };
      changes.add(new Span(e.volumeOffset(), e.length(), source));
    }
    return changes;
  }
}
