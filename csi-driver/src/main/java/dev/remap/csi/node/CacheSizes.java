package dev.remap.csi.node;

import dev.remap.csi.controller.VolumeParameters;
import dev.remap.csi.server.Rpc;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;

/**
 * The cache sizes a volume's class asked for, in bytes: the export's RAM tier and the volume's
 * own local-disk tier. Empty: the node's default (the NBD server's RAM cache size; no disk tier).
 * 0 turns a tier off. The controller writes them into the volume context; the staged record keeps
 * them so that a restarted plugin serves the volume with the same tiers.
 */
public record CacheSizes(OptionalLong ram, OptionalLong disk) {

  public static final CacheSizes NONE = new CacheSizes(OptionalLong.empty(), OptionalLong.empty());

  /** Reads them from a volume context; a value that is not a byte count is INVALID_ARGUMENT naming it. */
  static CacheSizes fromContext(Map<String, String> context) {
    return new CacheSizes(bytes(context, VolumeParameters.RAM_CACHE), bytes(context, VolumeParameters.DISK_CACHE));
  }

  private static OptionalLong bytes(Map<String, String> context, String key) {
    String value = context.get(key);
    if (value == null) {
      return OptionalLong.empty();
    }
    try {
      long bytes = Long.parseLong(value);
      if (bytes >= 0) {
        return OptionalLong.of(bytes);
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw Rpc.invalid("volume_context." + key + ": '" + value
        + "' is not a number of bytes (the controller writes it; was the volume context edited?)");
  }

  void store(Properties p) {
    ram.ifPresent(bytes -> p.setProperty("ramCacheBytes", Long.toString(bytes)));
    disk.ifPresent(bytes -> p.setProperty("diskCacheBytes", Long.toString(bytes)));
  }

  static CacheSizes load(Properties p) {
    return new CacheSizes(optional(p, "ramCacheBytes"), optional(p, "diskCacheBytes"));
  }

  private static OptionalLong optional(Properties p, String key) {
    String value = p.getProperty(key);
    return value == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(value));
  }
}
