package dev.remap.engine.volume;

import java.util.Locale;
import java.util.Map;

/**
 * How much of the store a volume takes, and whether its writes fail for want of space, as its
 * owner last published it in the volume's lease ({@link LeaseRecord}) next to its {@link Usage},
 * so that it reaches whoever reads the store (the operator's status, {@code remap volume list}).
 * Pure value.
 *
 * @param liveBytes bytes of the volume's own segments its mapping references, as its owner's
 *     cleaner last measured them
 * @param storedBytes the size of those segments
 * @param cleanedBytes live bytes the cleaner copied since the volume was created, across owners
 * @param noSpace why the owner's writes fail for want of space now (local disk or store full);
 *     null when they do not, or when nobody owns the volume
 * @param measuredAtMillis when the owner took the measurement (its wall clock); 0 when none was
 *     ever taken, and then liveBytes and storedBytes mean nothing
 */
public record SpaceReport(long liveBytes, long storedBytes, long cleanedBytes, String noSpace,
    long measuredAtMillis) {

  /** Nothing measured, nothing failing: what a lease written before space was published says. */
  public static final SpaceReport UNKNOWN = new SpaceReport(0, 0, 0, null, 0);
  private static final String PREFIX = "space.";

  /** A reason is one line (the lease is key=value lines) and is null rather than blank. */
  public SpaceReport {
    noSpace = noSpace == null || noSpace.isBlank() ? null : noSpace.replaceAll("[\r\n]+", " ").strip();
  }

  /** What a served volume reports now; measured says whether its cleaner measured it yet. */
  public static SpaceReport of(VolumeStats stats, boolean measured, long nowMillis) {
    return new SpaceReport(stats.liveBytes(), stats.storedBytes(), stats.cleanedBytes(), stats.noSpace(),
        measured ? nowMillis : 0);
  }

  public boolean measured() {
    return measuredAtMillis > 0;
  }

  /** Stored bytes per live byte: 1 when nothing is stored, infinite when nothing stored is live. */
  public double amplification() {
    if (liveBytes == 0) {
      return storedBytes == 0 ? 1.0 : Double.POSITIVE_INFINITY;
    }
    return (double) storedBytes / liveBytes;
  }

  /** The amplification with two decimals ("1.23"), or "Inf". */
  public String amplificationText() {
    double a = amplification();
    return Double.isInfinite(a) ? "Inf" : String.format(Locale.ROOT, "%.2f", a);
  }

  public SpaceReport withCleanedBytes(long cleaned) {
    return new SpaceReport(liveBytes, storedBytes, cleaned, noSpace, measuredAtMillis);
  }

  public SpaceReport withNoSpace(String reason) {
    return new SpaceReport(liveBytes, storedBytes, cleanedBytes, reason, measuredAtMillis);
  }

  void encode(Map<String, String> fields) {
    fields.put(PREFIX + "liveBytes", Long.toString(liveBytes));
    fields.put(PREFIX + "storedBytes", Long.toString(storedBytes));
    fields.put(PREFIX + "cleanedBytes", Long.toString(cleanedBytes));
    fields.put(PREFIX + "measuredAtMillis", Long.toString(measuredAtMillis));
    if (noSpace != null) {
      fields.put(PREFIX + "noSpace", noSpace);
    }
  }

  /** The report in fields; {@link #UNKNOWN} for a lease written before space was published. */
  static SpaceReport decode(Map<String, String> fields) {
    return new SpaceReport(number(fields, "liveBytes"), number(fields, "storedBytes"),
        number(fields, "cleanedBytes"), fields.get(PREFIX + "noSpace"), number(fields, "measuredAtMillis"));
  }

  private static long number(Map<String, String> fields, String name) {
    String text = fields.get(PREFIX + name);
    return text == null ? 0 : Long.parseLong(text);
  }
}
