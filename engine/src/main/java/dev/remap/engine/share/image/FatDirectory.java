package dev.remap.engine.share.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The 32-byte directory entries of FAT: short entries (name, attributes, times, first cluster,
 * size) and the VFAT long-name entries before them, and FAT's local-time stamps (kept as UTC
 * here, the way Linux mounts with its default time zone read them).
 */
final class FatDirectory {

  static final int ENTRY = 32;
  static final int ATTR_READ_ONLY = 0x01;
  static final int ATTR_VOLUME = 0x08;
  static final int ATTR_DIRECTORY = 0x10;
  static final int ATTR_ARCHIVE = 0x20;
  static final int ATTR_LONG_NAME = 0x0F;
  /** Units of a name one long-name entry holds. */
  static final int UNITS_PER_ENTRY = 13;
  /** The UTF-16 units' offsets inside a long-name entry. */
  private static final int[] UNIT_OFFSETS = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};

  private static final LocalDateTime EARLIEST = LocalDateTime.of(1980, 1, 1, 0, 0);
  private static final LocalDateTime LATEST = LocalDateTime.of(2107, 12, 31, 23, 59, 59);

  private FatDirectory() {}

  /** How many entries name takes: one short entry, plus long-name entries unless it is plain 8.3. */
  static int slots(String name) {
    return FatNames.isPlainShort(name) ? 1 : 1 + longSlots(name);
  }

  static int longSlots(String name) {
    return (name.length() + UNITS_PER_ENTRY - 1) / UNITS_PER_ENTRY;
  }

  /**
   * Writes name's long-name entries (unless it is plain 8.3) and its short entry at dir's
   * position; returns the position after them.
   */
  static int write(ByteBuffer dir, String name, byte[] shortName, int attributes, long cluster, long size,
      Instant modified) {
    if (!FatNames.isPlainShort(name)) {
      int count = longSlots(name);
      byte checksum = FatNames.checksum(shortName);
      // The entry with the name's last part comes first, marked 0x40; the short entry follows part 1.
      for (int sequence = count; sequence >= 1; sequence--) {
        int at = dir.position();
        dir.put(at, (byte) (sequence | (sequence == count ? 0x40 : 0)));
        dir.put(at + 11, (byte) ATTR_LONG_NAME);
        dir.put(at + 13, checksum);
        for (int i = 0; i < UNITS_PER_ENTRY; i++) {
          int index = (sequence - 1) * UNITS_PER_ENTRY + i;
          // After the name one 0x0000 terminates it when there is room; the rest is 0xFFFF.
          char unit = index < name.length() ? name.charAt(index) : (char) (index == name.length() ? 0 : 0xFFFF);
          dir.putChar(at + UNIT_OFFSETS[i], unit);
        }
        dir.position(at + ENTRY);
      }
    }
    writeShort(dir, shortName, attributes, cluster, size, modified);
    return dir.position();
  }

  /** Writes one short entry at dir's position and moves past it. */
  static void writeShort(ByteBuffer dir, byte[] shortName, int attributes, long cluster, long size,
      Instant modified) {
    int at = dir.position();
    dir.put(shortName, 0, 11);
    dir.put(at + 11, (byte) attributes);
    LocalDateTime time = clamp(modified);
    int date = date(time);
    int clock = time(time);
    // Created and written at the same moment; the creation's 10 ms units add the odd second.
    dir.put(at + 13, (byte) ((time.getSecond() % 2) * 100 + time.getNano() / 10_000_000));
    dir.putShort(at + 14, (short) clock);
    dir.putShort(at + 16, (short) date);
    dir.putShort(at + 18, (short) date);
    dir.putShort(at + 20, (short) (cluster >>> 16));
    dir.putShort(at + 22, (short) clock);
    dir.putShort(at + 24, (short) date);
    dir.putShort(at + 26, (short) (cluster & 0xFFFF));
    dir.putInt(at + 28, (int) size);
    dir.position(at + ENTRY);
  }

  /** A directory buffer of bytes, little-endian as FAT is. */
  static ByteBuffer buffer(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The UTF-16 units of one long-name entry at offset of entry (13 units). */
  static char[] longUnits(byte[] entry, int offset) {
    char[] units = new char[UNITS_PER_ENTRY];
    for (int i = 0; i < UNITS_PER_ENTRY; i++) {
      int at = offset + UNIT_OFFSETS[i];
      units[i] = (char) ((entry[at] & 0xff) | (entry[at + 1] & 0xff) << 8);
    }
    return units;
  }

  /** The write time of the short entry at offset (2-second resolution, read as UTC). */
  static Instant modified(byte[] entry, int offset) {
    int clock = u16(entry, offset + 22);
    int date = u16(entry, offset + 24);
    int year = 1980 + (date >>> 9);
    int month = Math.min(12, Math.max(1, (date >>> 5) & 0xF));
    int day = Math.max(1, date & 0x1F);
    LocalDateTime time;
    try {
      time = LocalDateTime.of(year, month, 1, Math.min(23, clock >>> 11), Math.min(59, (clock >>> 5) & 0x3F),
          Math.min(59, (clock & 0x1F) * 2)).plusDays(day - 1L);
    } catch (java.time.DateTimeException e) {
      time = EARLIEST;
    }
    return time.toInstant(ZoneOffset.UTC);
  }

  static int u16(byte[] bytes, int offset) {
    return (bytes[offset] & 0xff) | (bytes[offset + 1] & 0xff) << 8;
  }

  static long u32(byte[] bytes, int offset) {
    return (u16(bytes, offset) | (long) u16(bytes, offset + 2) << 16) & 0xFFFFFFFFL;
  }

  /** FAT stamps 1980 to 2107; times outside are kept at the nearest end. */
  private static LocalDateTime clamp(Instant instant) {
    if (instant.isBefore(EARLIEST.toInstant(ZoneOffset.UTC))) {
      return EARLIEST;
    }
    if (instant.isAfter(LATEST.toInstant(ZoneOffset.UTC))) {
      return LATEST;
    }
    return LocalDateTime.ofEpochSecond(instant.getEpochSecond(), instant.getNano(), ZoneOffset.UTC);
  }

  private static int date(LocalDateTime time) {
    return (time.getYear() - 1980) << 9 | time.getMonthValue() << 5 | time.getDayOfMonth();
  }

  private static int time(LocalDateTime time) {
    return time.getHour() << 11 | time.getMinute() << 5 | time.getSecond() / 2;
  }
}
