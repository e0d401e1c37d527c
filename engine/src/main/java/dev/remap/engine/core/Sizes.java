package dev.remap.engine.core;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes as users write them: a number with an optional K, M, G or T suffix (powers of 1024). */
public final class Sizes {

  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?)(?:i?B)?", Pattern.CASE_INSENSITIVE);
  private static final String UNITS = "KMGT";

  private Sizes() {}

  public static long parse(String text) {
    Matcher m = SIZE.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a size: write a number with an optional K, M, G or T suffix, e.g. 10G");
    }
    String unit = m.group(2).toUpperCase(Locale.ROOT);
    int shift = unit.isEmpty() ? 0 : 10 * (UNITS.indexOf(unit) + 1);
    try {
      long number = Long.parseLong(m.group(1));
      if (number > (Long.MAX_VALUE >> shift)) {
        throw new NumberFormatException();
      }
      return number << shift;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too large a size");
    }
  }

  /** The largest exact unit: 1048576 is "1M", 1536 is "1536" with no exact unit above bytes… */
  public static String format(long bytes) {
    if (bytes == 0) {
      return "0";
    }
    int unit = 0;
    long value = bytes;
    while (unit < UNITS.length() && value % 1024 == 0) {
      value /= 1024;
      unit++;
    }
    return unit == 0 ? Long.toString(bytes) : value + UNITS.substring(unit - 1, unit);
  }
}
