package dev.remap.engine.volume;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who may change a volume, as written in the store ({@code leases/NAME.lease}): the one owner
 * at a time across every node and process that serves the store. Pure value and codec; the
 * protocol around it is {@link Ownership}.
 *
 * <p>{@code epoch} counts owners: every acquisition adds one, so a node that comes back after a
 * crash can tell from its journal's epoch whether anybody owned the volume after it. {@code serial}
 * counts renewals within an epoch: a holder that stopped renewing is recognised by a serial that
 * does not move, measured on the observer's own clock, so clocks of different nodes need not agree.
 * A released lease stays in the store (with its epoch) until the volume is deleted.
 *
 * @param volumeId the volume's immutable id (a lease of a deleted namesake does not count)
 * @param node the node id of the owner
 * @param instance the owning process's random id (two processes of one node differ)
 * @param ttlMillis how long the owner may go without renewing before others may take over
 * @param usage what the volume has served so far, across owners (published at each renewal)
 * @param space how much of the store the volume takes, and whether its writes lack space (likewise)
 */
public record LeaseRecord(String volumeId, String node, String instance, long epoch, long serial,
    long ttlMillis, long renewedAtMillis, boolean released, Usage usage, SpaceReport space) {

  private static final String FORMAT = "remap-lease-1";

  public LeaseRecord(String volumeId, String node, String instance, long epoch, long serial, long ttlMillis,
      long renewedAtMillis, boolean released) {
    this(volumeId, node, instance, epoch, serial, ttlMillis, renewedAtMillis, released, Usage.ZERO,
        SpaceReport.UNKNOWN);
  }

  public LeaseRecord renewed(long nowMillis) {
    return new LeaseRecord(volumeId, node, instance, epoch, serial + 1, ttlMillis, nowMillis, false, usage, space);
  }

  public LeaseRecord asReleased(long nowMillis) {
    return new LeaseRecord(volumeId, node, instance, epoch, serial + 1, ttlMillis, nowMillis, true, usage, space);
  }

  public LeaseRecord withUsage(Usage now) {
    return new LeaseRecord(volumeId, node, instance, epoch, serial, ttlMillis, renewedAtMillis, released, now, space);
  }

  public LeaseRecord withSpace(SpaceReport now) {
    return new LeaseRecord(volumeId, node, instance, epoch, serial, ttlMillis, renewedAtMillis, released, usage, now);
  }

  /** Held by somebody (not released) for this volume id. */
  public boolean heldFor(String id) {
    return !released && volumeId.equals(id);
  }

  public ByteBuffer encode() {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("format", FORMAT);
    fields.put("volumeId", volumeId);
    fields.put("node", node);
    fields.put("instance", instance);
    fields.put("epoch", Long.toString(epoch));
    fields.put("serial", Long.toString(serial));
    fields.put("ttlMillis", Long.toString(ttlMillis));
    fields.put("renewedAtMillis", Long.toString(renewedAtMillis));
    fields.put("released", Boolean.toString(released));
    usage.encode(fields);
    space.encode(fields);
    StringBuilder text = new StringBuilder();
    fields.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    return ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** Decodes a lease; a damaged one is an IllegalArgumentException naming what is wrong. */
  public static LeaseRecord decode(byte[] bytes, String what) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(what + " is damaged: line '" + line + "' is not key=value");
      }
      fields.put(line.substring(0, eq), line.substring(eq + 1));
    }
    if (!FORMAT.equals(fields.get("format"))) {
      throw new IllegalArgumentException(what + " is not a lease of this version (format "
          + fields.get("format") + ", expected " + FORMAT + ")");
    }
    try {
      return new LeaseRecord(text(fields, "volumeId", what), text(fields, "node", what), text(fields, "instance", what),
          number(fields, "epoch", what), number(fields, "serial", what), number(fields, "ttlMillis", what),
          number(fields, "renewedAtMillis", what), Boolean.parseBoolean(text(fields, "released", what)),
          Usage.decode(fields), SpaceReport.decode(fields));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " is damaged: " + e.getMessage());
    }
  }

  private static String text(Map<String, String> fields, String key, String what) {
    String value = fields.get(key);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(what + " is damaged: it has no " + key);
    }
    return value;
  }

  private static long number(Map<String, String> fields, String key, String what) {
    return Long.parseLong(text(fields, key, what));
  }
}
