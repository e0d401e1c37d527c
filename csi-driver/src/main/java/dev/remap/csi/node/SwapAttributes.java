package dev.remap.csi.node;

import dev.remap.csi.server.Rpc;
import dev.remap.engine.swap.PagePool;
import dev.remap.engine.swap.SwapSpec;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The volume attributes of a swap volume (the operator writes them on the static PersistentVolume
 * it makes for a VmMemorySwap; docs/CSI.md, "Swap volumes") turned into the engine's
 * {@link SwapSpec}, and that spec kept in a staged record so that a restarted plugin can make the
 * disk again. Pure: every mistake is INVALID_ARGUMENT naming the attribute.
 */
public final class SwapAttributes {

  public static final String KIND = "remap.dev/kind";
  public static final String SWAP_KIND = "swap";
  public static final String SIZE = "remap.dev/swap-size";
  public static final String MEMORY_LIMIT = "remap.dev/swap-memory-limit";
  public static final String SPILL_SIZE = "remap.dev/swap-spill-size";
  public static final String SPILL_LOCATION = "remap.dev/swap-spill-location";
  public static final String DISCARD = "remap.dev/swap-discard";
  public static final String LABEL = "remap.dev/swap-label";

  private SwapAttributes() {}

  /**
   * The swap disk a volume context asks for; empty when it has no {@code remap.dev/kind} (a Remap
   * volume of the store).
   *
   * @param volume the volume id, which is the swap disk's export name
   */
  public static Optional<SwapSpec> fromContext(String volume, Map<String, String> context) {
    String kind = context.get(KIND);
    if (kind == null) {
      return Optional.empty();
    }
    if (!kind.equals(SWAP_KIND)) {
      throw Rpc.invalid("volume_context." + KIND + ": '" + kind + "' is not a kind of volume this driver knows"
          + " (only '" + SWAP_KIND + "'; a volume of the store has no " + KIND + ")");
    }
    long size = bytes(context, SIZE);
    if (size % PagePool.PAGE != 0) {
      throw Rpc.invalid("volume_context." + SIZE + ": " + size + " is not a multiple of the 4096-byte page size");
    }
    long memoryLimit = bytes(context, MEMORY_LIMIT);
    Optional<SwapSpec.Spill> spill = spill(context);
    boolean discard = switch (required(context, DISCARD)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw Rpc.invalid("volume_context." + DISCARD + ": '" + context.get(DISCARD)
          + "' is not true or false");
    };
    Optional<String> label = Optional.ofNullable(context.get(LABEL));
    try {
      return Optional.of(new SwapSpec(volume, size, memoryLimit, spill, discard, label));
    } catch (IllegalArgumentException e) {
      // The engine names its own fields; the user wrote the attributes (from the VmMemorySwap's spec).
      throw Rpc.invalid("volume_context of swap volume " + volume + ": " + e.getMessage()
          .replace("memoryLimit", MEMORY_LIMIT).replace("spill.size", SPILL_SIZE)
          .replace("the swap label", LABEL).replace("formatted as swap", "with a " + LABEL));
    }
  }

  private static Optional<SwapSpec.Spill> spill(Map<String, String> context) {
    boolean hasSize = context.containsKey(SPILL_SIZE);
    boolean hasLocation = context.containsKey(SPILL_LOCATION);
    if (!hasSize && !hasLocation) {
      return Optional.empty();
    }
    if (!hasLocation) {
      throw Rpc.invalid("volume_context." + SPILL_LOCATION + " is missing: " + SPILL_SIZE + " needs the directory"
          + " the spill file is made in");
    }
    if (!hasSize) {
      throw Rpc.invalid("volume_context." + SPILL_SIZE + " is missing: " + SPILL_LOCATION + " needs the most"
          + " bytes the spill file may hold");
    }
    String location = context.get(SPILL_LOCATION);
    if (location.isEmpty() || !location.startsWith("/")) {
      throw Rpc.invalid("volume_context." + SPILL_LOCATION + " (spill.location): '" + location
          + "' is not an absolute directory");
    }
    long size = bytes(context, SPILL_SIZE);
    try {
      return Optional.of(new SwapSpec.Spill(Path.of(location).normalize(), size));
    } catch (IllegalArgumentException e) {
      throw Rpc.invalid("volume_context." + SPILL_SIZE + ": " + e.getMessage().replace("spill.size", SPILL_SIZE));
    }
  }

  private static String required(Map<String, String> context, String key) {
    String value = context.get(key);
    if (value == null) {
      throw Rpc.invalid("volume_context." + key + " is missing: a swap volume needs it (the Remap operator writes it"
          + " from the VmMemorySwap)");
    }
    return value;
  }

  private static long bytes(Map<String, String> context, String key) {
    String value = required(context, key);
    try {
      long bytes = Long.parseLong(value);
      if (bytes > 0) {
        return bytes;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw Rpc.invalid("volume_context." + key + ": '" + value + "' is not a positive number of bytes");
  }

  /** Keeps a swap volume's spec in its staged record (the name is the record's volume). */
  static void store(SwapSpec spec, Properties p) {
    p.setProperty("swap.size", Long.toString(spec.size()));
    p.setProperty("swap.memoryLimit", Long.toString(spec.memoryLimit()));
    spec.spill().ifPresent(spill -> {
      p.setProperty("swap.spillLocation", spill.directory().toString());
      p.setProperty("swap.spillSize", Long.toString(spill.size()));
    });
    p.setProperty("swap.discard", Boolean.toString(spec.discard()));
    spec.label().ifPresent(label -> p.setProperty("swap.label", label));
  }

  /** The spec a staged record keeps; empty for a volume of the store. */
  static Optional<SwapSpec> load(String volume, Properties p) {
    String size = p.getProperty("swap.size");
    if (size == null) {
      return Optional.empty();
    }
    String spillLocation = p.getProperty("swap.spillLocation");
    Optional<SwapSpec.Spill> spill = spillLocation == null ? Optional.empty()
        : Optional.of(new SwapSpec.Spill(Path.of(spillLocation), Long.parseLong(p.getProperty("swap.spillSize"))));
    return Optional.of(new SwapSpec(volume, Long.parseLong(size), Long.parseLong(p.getProperty("swap.memoryLimit")),
        spill, Boolean.parseBoolean(p.getProperty("swap.discard")), Optional.ofNullable(p.getProperty("swap.label"))));
  }
}
