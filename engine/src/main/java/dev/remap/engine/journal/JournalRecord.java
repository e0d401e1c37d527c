package dev.remap.engine.journal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * One record of the write-ahead journal and its on-disk encoding (pure; no I/O).
 *
 * <pre>
 * offset size field
 *   0     4   magic "RMJ1"
 *   4     1   type (1 write, 2 zero, 3 trim)
 *   5     3   reserved, zero
 *   8     8   seq: strictly increasing over the journal, starting at 1
 *  16     8   volume offset
 *  24     4   length in bytes
 *  28     4   CRC-32C of bytes 0..27 and of the payload
 *  32     -   payload (length bytes, write records only)
 * </pre>
 *
 * A record whose magic or checksum does not match is a torn or corrupt tail: replay stops there.
 */
public record JournalRecord(Type type, long seq, long offset, int length) {

  public static final int HEADER = 32;
  private static final int MAGIC = 0x524d4a31; // "RMJ1"

  public enum Type {
    WRITE(1), ZERO(2), TRIM(3);

    final int code;

    Type(int code) {
      this.code = code;
    }

    static Optional<Type> of(int code) {
      for (Type t : values()) {
        if (t.code == code) {
          return Optional.of(t);
        }
      }
      return Optional.empty();
    }
  }

  public JournalRecord {
    if (seq <= 0 || offset < 0 || length <= 0) {
      throw new IllegalArgumentException("bad journal record seq=" + seq + " offset=" + offset + " length=" + length);
    }
  }

  /** Bytes the record occupies on disk. */
  public int encodedSize() {
    return HEADER + payloadSize();
  }

  public int payloadSize() {
    return type == Type.WRITE ? length : 0;
  }

  /** The 32-byte header for this record with payload (which must hold payloadSize() bytes). */
  public ByteBuffer header(ByteBuffer payload) {
    ByteBuffer header = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
    header.putInt(MAGIC).put((byte) type.code).put((byte) 0).putShort((short) 0)
        .putLong(seq).putLong(offset).putInt(length);
    CRC32C crc = new CRC32C();
    crc.update(header.array(), 0, 28);
    if (payload != null) {
      crc.update(payload.duplicate());
    }
    header.putInt((int) crc.getValue());
    return header.flip();
  }

  /**
   * Parses a header; empty when it is not a valid record header (wrong magic, unknown type,
   * nonsense fields). The checksum covers the payload too, so callers verify it with
   * {@link #verify} once they have read the payload.
   */
  public static Optional<Parsed> parse(ByteBuffer header) {
    ByteBuffer h = header.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (h.remaining() < HEADER || h.getInt() != MAGIC) {
      return Optional.empty();
    }
    Optional<Type> type = Type.of(h.get() & 0xff);
    h.get();
    h.getShort();
    long seq = h.getLong();
    long offset = h.getLong();
    int length = h.getInt();
    int crc = h.getInt();
    if (type.isEmpty() || seq <= 0 || offset < 0 || length <= 0) {
      return Optional.empty();
    }
    byte[] first = new byte[28];
    header.duplicate().get(first);
    return Optional.of(new Parsed(new JournalRecord(type.get(), seq, offset, length), crc, first));
  }

  /**
   * Whether bytes, as read from a journal file from a record's first byte, are a whole write record
   * of these fields whose checksum is crc: how bytes linked from a segment are checked after a
   * crash (a power cut may have lost them, or left an earlier use's record there).
   */
  public static boolean isWholeWrite(ByteBuffer bytes, long volumeOffset, long length, int crc) {
    Optional<Parsed> parsed = parse(bytes);
    if (parsed.isEmpty()) {
      return false;
    }
    JournalRecord record = parsed.get().record();
    if (record.type() != Type.WRITE || record.offset() != volumeOffset || record.length() != length
        || parsed.get().crc() != crc || bytes.remaining() != record.encodedSize()) {
      return false;
    }
    ByteBuffer payload = bytes.duplicate();
    payload.position(payload.position() + HEADER);
    return parsed.get().verify(payload);
  }

  /** A parsed header, waiting for its payload to be verified. */
  public record Parsed(JournalRecord record, int crc, byte[] headerBytes) {
    public boolean verify(ByteBuffer payload) {
      CRC32C check = new CRC32C();
      check.update(headerBytes);
      if (payload != null) {
        check.update(payload.duplicate());
      }
      return (int) check.getValue() == crc;
    }
  }
}
