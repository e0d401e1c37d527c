package dev.remap.operator.swap;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads one swap disk's counters out of a node plugin's /metrics, Prometheus' text exposition
 * format (the engine's SwapMeters rendered by the plugin's Prometheus registry). Pure.
 *
 * <p>Only the lines of the ten {@code remap_swap_*} series are parsed, so comments (HELP, TYPE),
 * blank lines and every other metric, however written, are skipped. Labels may come in any order
 * and with escapes; values may be written with an exponent ({@code 1.6384E7}), as the registry
 * writes large numbers.
 */
public final class SwapMetricsText {

  /** The label that names the disk: its export name, the volume handle swap/NS/NAME. */
  static final String DISK = "disk";
  /** The ten series, in the order of {@link SwapFigures}'s components. */
  static final List<String> SERIES = List.of("remap_swap_resident_bytes", "remap_swap_spilled_bytes",
      "remap_swap_swap_outs_total", "remap_swap_swap_ins_total", "remap_swap_remaps_total",
      "remap_swap_pages_released_total", "remap_swap_spill_writes_total", "remap_swap_spill_loads_total",
      "remap_swap_discards_total", "remap_swap_bytes_copied_total");

  private SwapMetricsText() {}

  /**
   * The counters of the disk whose {@code disk} label is {@code disk}; empty when the text has
   * none of its series (the node does not serve that disk).
   *
   * @throws IllegalArgumentException when the disk has some of the ten series and not others, or
   *     one of them has a value that is not a finite non-negative number: a node plugin that
   *     speaks another version of these metrics, whose figures would be half made up
   */
  public static Optional<SwapFigures> figures(String text, String disk) {
    Map<String, Long> found = new HashMap<>();
    for (String line : text.split("\n")) {
      String l = line.strip();
      int nameEnd = nameEnd(l);
      if (l.isEmpty() || l.startsWith("#") || !SERIES.contains(l.substring(0, nameEnd))) {
        continue;
      }
      Sample s = sample(l, nameEnd);
      if (disk.equals(s.labels().get(DISK))) {
        found.put(l.substring(0, nameEnd), whole(l.substring(0, nameEnd), s.value()));
      }
    }
    if (found.isEmpty()) {
      return Optional.empty();
    }
    List<String> missing = SERIES.stream().filter(n -> !found.containsKey(n)).toList();
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("the metrics of swap disk " + disk + " lack " + String.join(", ", missing));
    }
    long[] v = SERIES.stream().mapToLong(found::get).toArray();
    return Optional.of(new SwapFigures(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]));
  }

  private record Sample(Map<String, String> labels, String value) {}

  /** Where a metric name ends: at its label set, or at the blank before its value. */
  private static int nameEnd(String line) {
    int i = 0;
    while (i < line.length() && line.charAt(i) != '{' && !Character.isWhitespace(line.charAt(i))) {
      i++;
    }
    return i;
  }

  /** The labels and the value of a sample line whose name ends at {@code at}. */
  private static Sample sample(String line, int at) {
    Map<String, String> labels = new HashMap<>();
    int i = at;
    if (i < line.length() && line.charAt(i) == '{') {
      i++;
      while (true) {
        i = skipBlanks(line, i);
        if (i >= line.length()) {
          throw bad(line, "an unterminated label set");
        }
        if (line.charAt(i) == '}') {
          i++;
          break;
        }
        int eq = line.indexOf('=', i);
        if (eq < 0 || eq + 1 >= line.length() || line.charAt(eq + 1) != '"') {
          throw bad(line, "a label without a quoted value");
        }
        String key = line.substring(i, eq).strip();
        StringBuilder value = new StringBuilder();
        i = eq + 2;
        while (i < line.length() && line.charAt(i) != '"') {
          char c = line.charAt(i);
          if (c == '\\' && i + 1 < line.length()) {
            char e = line.charAt(++i);
            value.append(e == 'n' ? '\n' : e);
          } else {
            value.append(c);
          }
          i++;
        }
        if (i >= line.length()) {
          throw bad(line, "an unterminated label value");
        }
        labels.put(key, value.toString());
        i = skipBlanks(line, i + 1);
        if (i < line.length() && line.charAt(i) == ',') {
          i++;
        }
      }
    }
    // The value, then perhaps a timestamp, which does not matter here.
    String[] rest = line.substring(i).strip().split("\\s+");
    if (rest[0].isEmpty()) {
      throw bad(line, "no value");
    }
    return new Sample(labels, rest[0]);
  }

  private static int skipBlanks(String line, int i) {
    while (i < line.length() && Character.isWhitespace(line.charAt(i))) {
      i++;
    }
    return i;
  }

  /** A counter or byte gauge as a whole number; the registry writes them as doubles. */
  private static long whole(String name, String text) {
    double d;
    try {
      d = Double.parseDouble(text);
    } catch (NumberFormatException e) {
      // +Inf, -Inf and NaN are valid Prometheus values, but never a count of pages or bytes.
      throw new IllegalArgumentException(name + " has the value " + text + ", not a number of pages or bytes", e);
    }
    if (!Double.isFinite(d) || d < 0 || d >= 0x1p63) {
      throw new IllegalArgumentException(name + " has the value " + text + ", not a number of pages or bytes");
    }
    return Math.round(d);
  }

  private static IllegalArgumentException bad(String line, String what) {
    return new IllegalArgumentException("a metrics line with " + what + ": " + line);
  }
}
