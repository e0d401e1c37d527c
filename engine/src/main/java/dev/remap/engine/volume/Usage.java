package dev.remap.engine.volume;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a volume has served, counted since it was created, across every process that owned it:
 * requests and bytes that reached its request queue, and the hits and misses of its RAM and
 * local-disk tiers. Owners publish it in the volume's lease ({@link LeaseRecord}) at each renewal
 * and hand it on with the lease, so it reaches whoever reads the store (the operator's status).
 * Pure value.
 */
public record Usage(long reads, long writes, long readBytes, long writtenBytes, long ramHits, long ramMisses,
    long diskHits, long diskMisses) {

  public static final Usage ZERO = new Usage(0, 0, 0, 0, 0, 0, 0, 0);
  private static final String PREFIX = "usage.";

  public Usage plus(Usage o) {
    return new Usage(reads + o.reads, writes + o.writes, readBytes + o.readBytes, writtenBytes + o.writtenBytes,
        ramHits + o.ramHits, ramMisses + o.ramMisses, diskHits + o.diskHits, diskMisses + o.diskMisses);
  }

  public Usage minus(Usage o) {
    return new Usage(reads - o.reads, writes - o.writes, readBytes - o.readBytes, writtenBytes - o.writtenBytes,
        ramHits - o.ramHits, ramMisses - o.ramMisses, diskHits - o.diskHits, diskMisses - o.diskMisses);
  }

  void encode(Map<String, String> fields) {
    long[] values = values();
    String[] names = names();
    for (int i = 0; i < names.length; i++) {
      fields.put(PREFIX + names[i], Long.toString(values[i]));
    }
  }

  /** The usage in fields; zeros for a lease written before usage was published. */
  static Usage decode(Map<String, String> fields) {
    String[] names = names();
    long[] v = new long[names.length];
    for (int i = 0; i < names.length; i++) {
      String text = fields.get(PREFIX + names[i]);
      v[i] = text == null ? 0 : Long.parseLong(text);
    }
    return new Usage(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
  }

  private long[] values() {
    return new long[] {reads, writes, readBytes, writtenBytes, ramHits, ramMisses, diskHits, diskMisses};
  }

  private static String[] names() {
    return new String[] {"reads", "writes", "readBytes", "writtenBytes", "ramHits", "ramMisses", "diskHits",
        "diskMisses"};
  }

  /** For logs and tests. */
  public Map<String, Long> asMap() {
    Map<String, Long> m = new LinkedHashMap<>();
    long[] values = values();
    String[] names = names();
    for (int i = 0; i < names.length; i++) {
      m.put(names[i], values[i]);
    }
    return m;
  }
}
