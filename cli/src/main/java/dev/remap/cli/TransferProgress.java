package dev.remap.cli;

import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * How `remap export` and `remap import` report how far they got, to two readers at once: a person
 * at a terminal (a bar on stderr, redrawn in place, only when stderr is a terminal) and a program
 * (the operator reads the tail of a Job pod's log): lines on stdout, always, at most one a second,
 *
 * <pre>
 * progress copied=BYTES total=BYTES
 * done copied=BYTES total=BYTES [existing=true]
 * </pre>
 *
 * The final line is printed once, even when nothing was copied (existing=true: the target held
 * the result already). Other lines on stdout (the command's sentence for a person) are not
 * progress lines, and readers skip them. The formatting is pure and unit-tested; the reporter only adds timing.
 * Not thread-safe: one copy reports from one thread.
 */
final class TransferProgress {

  static final long LINE_INTERVAL_NANOS = 1_000_000_000L;
  static final long BAR_INTERVAL_NANOS = 200_000_000L;
  static final int BAR_WIDTH = 30;

  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean bar;
  private final LongSupplier nanoTime;
  private final long total;
  private long copied;
  private long lastLine = Long.MIN_VALUE;
  private long lastBar = Long.MIN_VALUE;

  TransferProgress(PrintWriter out, PrintWriter err, boolean bar, LongSupplier nanoTime, long total) {
    this.out = out;
    this.err = err;
    this.bar = bar;
    this.nanoTime = nanoTime;
    this.total = total;
  }

  /** The first line: the total is known before anything is copied. */
  void start() {
    report(true);
  }

  /** Count bytes copied; prints a line if a second passed since the last one. */
  void add(long bytes) {
    copied += bytes;
    report(false);
  }

  long copied() {
    return copied;
  }

  /** The final line (and the bar at its end). */
  String done(boolean existing) {
    String line = doneLine(copied, total, existing);
    if (bar) {
      err.print("\r" + bar(existing ? total : copied, total, BAR_WIDTH) + "\n");
      err.flush();
    }
    out.println(line);
    out.flush();
    return line;
  }

  private void report(boolean force) {
    long now = nanoTime.getAsLong();
    if (force || now - lastLine >= LINE_INTERVAL_NANOS) {
      lastLine = now;
      out.println(progressLine(copied, total));
      out.flush();
    }
    if (bar && (force || now - lastBar >= BAR_INTERVAL_NANOS)) {
      lastBar = now;
      err.print("\r" + bar(copied, total, BAR_WIDTH));
      err.flush();
    }
  }

  static String progressLine(long copied, long total) {
    return "progress copied=" + copied + " total=" + total;
  }

  static String doneLine(long copied, long total, boolean existing) {
    return "done copied=" + copied + " total=" + total + (existing ? " existing=true" : "");
  }

  /** Whole percent, rounded down (100 only when all is copied); 100 for an empty transfer. */
  static int percent(long copied, long total) {
    if (total <= 0) {
      return 100;
    }
    return (int) Math.min(100, Math.max(0, copied * 100 / total));
  }

  /** {@code [#########.....]  42%  1.2G of 2.9G}, width characters between the brackets. */
  static String bar(long copied, long total, int width) {
    int pct = percent(copied, total);
    int filled = total <= 0 ? width : (int) Math.min(width, copied * width / total);
    return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + String.format("%3d%%", pct) + "  "
        + human(copied) + " of " + human(total);
  }

  /** Bytes for a person: 512B, 1.5KiB, 42.0MiB, 2.9GiB (binary units, one decimal). */
  static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + "B";
    }
    String units = "KMGTPE";
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < units.length() - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(java.util.Locale.ROOT, "%.1f%siB", value, units.charAt(unit));
  }
}
