package dev.remap.engine.share.image;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * FAT names: which long names FAT refuses, the case-insensitive key two names collide on, the
 * unique 8.3 short name each long name needs (Windows' basis-name rules with "~n" tails), the
 * checksum that ties long-name entries to their short entry, the volume label, and decoding a
 * short name as a guest wrote it (with the lowercase flags Windows NT and Linux set).
 */
final class FatNames {

  /** Longest long name, in UTF-16 units (20 entries of 13). */
  static final int MAX_NAME_UNITS = 255;

  /** Characters besides A-Z and 0-9 allowed in a short name and in a volume label. */
  private static final String SHORT_PUNCTUATION = "$%'-_@~`!(){}^#&";

  /** Characters a long name may not hold (besides control characters). */
  private static final String REFUSED = "\"*/:<>?\\|";

  /** The OEM code page Linux reads short names with by default (codepage=437). */
  private static final Charset OEM = oem();

  private FatNames() {}

  /** Why FAT refuses name as a long name (a phrase to follow "its name has"), or null. */
  static String refusal(String name) {
    int units = name.length();
    if (units > MAX_NAME_UNITS) {
      return units + " UTF-16 units; FAT holds names of up to " + MAX_NAME_UNITS;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20) {
        return String.format("the control character U+%04X, which FAT refuses", (int) c);
      }
      if (REFUSED.indexOf(c) >= 0) {
        return "the character '" + c + "', which FAT refuses";
      }
    }
    char last = name.charAt(name.length() - 1);
    if (last == '.' || last == ' ') {
      return (last == '.' ? "a dot" : "a space") + " at its end, which FAT refuses";
    }
    return null;
  }

  /** The key two names of one directory collide on: FAT compares names ignoring case. */
  static String key(String name) {
    StringBuilder key = new StringBuilder(name.length());
    // Code point by code point, so the key keeps the name's length (String.toUpperCase turns ß
    // into SS, which would make distinct names collide).
    name.codePoints().forEach(cp -> key.appendCodePoint(Character.toUpperCase(cp)));
    return key.toString();
  }

  /** Whether name is stored as it is in a short entry, with no long-name entries. */
  static boolean isPlainShort(String name) {
    return name.equals(key(name)) && fitsShort(name);
  }

  /** Whether name is 8.3 but for its case, so its short name needs no "~n" tail. */
  static boolean isLossless(String name) {
    return fitsShort(key(name));
  }

  /**
   * A short name (11 bytes, space-padded) for name that is not in used, and adds it to used
   * (which holds the 11-character strings). Names that are 8.3 but for their case keep their
   * letters; others get a basis (spaces and extra dots dropped, other characters turned into
   * '_', base cut to 8 and extension to 3) and the first free "~n" tail.
   */
  static byte[] shortName(String name, Set<String> used) {
    String upper = key(name);
    if (fitsShort(upper)) {
      int dot = upper.indexOf('.');
      String plain = dot < 0 ? pad(upper, 8) + "   " : pad(upper.substring(0, dot), 8) + pad(upper.substring(dot + 1), 3);
      if (used.add(plain)) {
        return plain.getBytes(StandardCharsets.US_ASCII);
      }
    }
    String stripped = upper.replace(" ", "");
    int start = 0;
    while (start < stripped.length() && stripped.charAt(start) == '.') {
      start++;
    }
    stripped = stripped.substring(start);
    int dot = stripped.lastIndexOf('.');
    String base = basis(dot < 0 ? stripped : stripped.substring(0, dot).replace(".", ""));
    String ext = dot < 0 ? "" : basis(stripped.substring(dot + 1));
    if (base.isEmpty()) {
      base = "_";
    }
    ext = ext.length() > 3 ? ext.substring(0, 3) : ext;
    for (int n = 1; ; n++) {
      String tail = "~" + n;
      String head = base.substring(0, Math.min(base.length(), 8 - tail.length()));
      String candidate = pad(head + tail, 8) + pad(ext, 3);
      if (used.add(candidate)) {
        return candidate.getBytes(StandardCharsets.US_ASCII);
      }
    }
  }

  /** The checksum of an 11-byte short name that its long-name entries carry. */
  static byte checksum(byte[] shortName) {
    int sum = 0;
    for (int i = 0; i < 11; i++) {
      sum = (((sum & 1) << 7) + ((sum & 0xff) >> 1) + (shortName[i] & 0xff)) & 0xff;
    }
    return (byte) sum;
  }

  /**
   * The volume label as 11 space-padded bytes: upper-cased, characters a label may not hold
   * dropped, cut to 11; null when nothing is left (the volume then has no label).
   */
  static byte[] label(String label) {
    StringBuilder kept = new StringBuilder();
    for (char c : key(label).toCharArray()) {
      if (c == ' ' || isShortChar(c)) {
        kept.append(c);
      }
    }
    String text = kept.toString().strip();
    if (text.length() > 11) {
      text = text.substring(0, 11).strip();
    }
    return text.isEmpty() ? null : pad(text, 11).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * The name a short entry at offset of entry holds: base and extension trimmed, 0x05 read as
   * 0xE5, and each part lower-cased when byte 12 says so (0x08 base, 0x10 extension).
   */
  static String decodeShort(byte[] entry, int offset) {
    byte[] raw = new byte[11];
    System.arraycopy(entry, offset, raw, 0, 11);
    if (raw[0] == 0x05) {
      raw[0] = (byte) 0xE5;
    }
    String base = new String(raw, 0, 8, OEM).stripTrailing();
    String ext = new String(raw, 8, 3, OEM).stripTrailing();
    int flags = entry[offset + 12];
    if ((flags & 0x08) != 0) {
      base = base.toLowerCase(java.util.Locale.ROOT);
    }
    if ((flags & 0x10) != 0) {
      ext = ext.toLowerCase(java.util.Locale.ROOT);
    }
    return ext.isEmpty() ? base : base + "." + ext;
  }

  private static boolean fitsShort(String upper) {
    int dot = upper.indexOf('.');
    String base = dot < 0 ? upper : upper.substring(0, dot);
    String ext = dot < 0 ? "" : upper.substring(dot + 1);
    if (base.isEmpty() || base.length() > 8 || ext.length() > 3 || (dot >= 0 && ext.isEmpty())) {
      return false;
    }
    return (base + ext).chars().allMatch(c -> isShortChar((char) c));
  }

  private static boolean isShortChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SHORT_PUNCTUATION.indexOf(c) >= 0;
  }

  /** An upper-cased part turned into short-name characters ('_' for the others), at most 8. */
  private static String basis(String part) {
    StringBuilder out = new StringBuilder();
    part.codePoints().forEach(cp -> {
      if (out.length() < 8) {
        out.append(cp < 0x80 && isShortChar((char) cp) ? (char) cp : '_');
      }
    });
    return out.toString();
  }

  private static String pad(String text, int width) {
    return text + " ".repeat(width - text.length());
  }

  private static Charset oem() {
    try {
      return Charset.forName("IBM437");
    } catch (IllegalArgumentException e) {
      // A JDK without the extended charsets: ASCII names still read right.
      return StandardCharsets.ISO_8859_1;
    }
  }
}
