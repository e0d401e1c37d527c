package dev.remap.cli;

import dev.remap.engine.core.Sizes;
import dev.remap.engine.swap.PagePool;
import dev.remap.engine.swap.SwapExports;
import dev.remap.engine.swap.SwapSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * The swap disks of {@code remap serve} (docs/SWAP.md): the node's page pool ({@code --swap-pool})
 * and the disks carved from it ({@code --swap}, once per disk). Every value is checked here, so an
 * error names the flag and the key rather than the engine's field; what only creating a disk can
 * tell (the pool's cap, a spill directory that cannot hold the file) is the engine's sentence.
 */
final class SwapOptions {

  static final String POOL = "--swap-pool";
  static final String SWAP = "--swap";
  private static final List<String> KEYS = List.of("size", "memory-limit", "spill-dir", "spill-size", "label",
      "discard");

  @Option(names = POOL, paramLabel = "SIZE", defaultValue = "0",
      description = "Memory of this node that swap disks may hold, all together; 0: no swap disks"
          + " (default ${DEFAULT-VALUE})")
  String pool;

  @Option(names = SWAP, paramLabel = "NAME:size=SIZE,memory-limit=SIZE[,spill-dir=DIR,spill-size=SIZE]"
      + "[,label=LABEL][,discard=true|false]",
      description = {"Serve a swap disk as export NAME (repeatable): its pages live in the --swap-pool,"
          + " at most memory-limit of them; the rest go to a file in spill-dir of at most spill-size.",
          "label: the disk starts formatted as swap with this label (swapon LABEL=... without mkswap);"
              + " discard: the guest's TRIM frees pages (default true). Nothing of it is durable."})
  List<String> swaps = new ArrayList<>();

  /** The pool's cap in bytes; 0 when no swap disks are served. */
  long poolBytes() {
    try {
      return Sizes.parse(pool);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(POOL + ": " + e.getMessage());
    }
  }

  /** What the --swap flags ask for, each checked; names are unique. */
  List<SwapSpec> specs() {
    List<SwapSpec> specs = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (String text : swaps) {
      SwapSpec spec = parse(text);
      if (!names.add(spec.name())) {
        throw new IllegalArgumentException(SWAP + " " + spec.name() + " is given twice: a swap disk's name is its"
            + " export's");
      }
      specs.add(spec);
    }
    if (!specs.isEmpty() && poolBytes() == 0) {
      throw new IllegalArgumentException(SWAP + " needs a pool for its pages: give " + POOL
          + " SIZE, at least the sum of the disks' memory-limit");
    }
    return specs;
  }

  /**
   * The pool and every disk in it, created now; empty when neither flag is given. A disk that
   * cannot be made (the pool cannot promise its memory-limit, its spill directory cannot hold a
   * file) closes the ones made before it and fails with the engine's message, naming the disk.
   */
  Optional<SwapExports> open() throws IOException {
    List<SwapSpec> specs = specs();
    long cap = poolBytes();
    if (cap == 0) {
      return Optional.empty();
    }
    SwapExports exports;
    try {
      exports = new SwapExports(new PagePool(cap));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(POOL + ": " + e.getMessage());
    }
    try {
      for (SwapSpec spec : specs) {
        exports.create(spec);
      }
    } catch (IOException | RuntimeException e) {
      exports.close();
      throw e;
    }
    return Optional.of(exports);
  }

  /** One --swap value: NAME:key=value,...; each mistake is a sentence naming the flag, the disk and the key. */
  static SwapSpec parse(String text) {
    int colon = text.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(SWAP + " needs NAME:size=SIZE,memory-limit=SIZE[,...], not '" + text + "'");
    }
    String name = text.substring(0, colon);
    String where = SWAP + " " + name;
    Map<String, String> values = new LinkedHashMap<>();
    for (String pair : text.substring(colon + 1).split(",", -1)) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(where + ": '" + pair + "' is not KEY=VALUE (keys: " + keys() + ")");
      }
      String key = pair.substring(0, eq);
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException(where + ": unknown key '" + key + "' (keys: " + keys() + ")");
      }
      if (values.put(key, pair.substring(eq + 1)) != null) {
        throw new IllegalArgumentException(where + ": " + key + " is given twice");
      }
    }
    long size = size(where, "size", required(where, values, "size"));
    long memoryLimit = size(where, "memory-limit", required(where, values, "memory-limit"));
    Optional<SwapSpec.Spill> spill = spill(where, values);
    boolean discard = switch (values.getOrDefault("discard", "true")) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException(where + ": discard is true or false, not '"
          + values.get("discard") + "'");
    };
    Optional<String> label = Optional.ofNullable(values.get("label"));
    try {
      return new SwapSpec(name, size, memoryLimit, spill, discard, label);
    } catch (IllegalArgumentException e) {
      // The engine names its fields (memoryLimit, spill.size); the flag's keys are what the user wrote.
      throw new IllegalArgumentException(where + ": " + e.getMessage()
          .replace("memoryLimit", "memory-limit").replace("spill.size", "spill-size"));
    }
  }

  private static String keys() {
    return String.join(", ", KEYS);
  }

  private static String required(String where, Map<String, String> values, String key) {
    String value = values.get(key);
    if (value == null) {
      throw new IllegalArgumentException(where + ": " + key + "=SIZE is missing");
    }
    return value;
  }

  private static Optional<SwapSpec.Spill> spill(String where, Map<String, String> values) {
    String dir = values.get("spill-dir");
    String size = values.get("spill-size");
    if (dir == null && size == null) {
      return Optional.empty();
    }
    if (dir == null) {
      throw new IllegalArgumentException(where + ": spill-size needs spill-dir=DIR, where the spill file is made");
    }
    if (size == null) {
      throw new IllegalArgumentException(where + ": spill-dir needs spill-size=SIZE, the most the spill file holds");
    }
    if (dir.isEmpty()) {
      throw new IllegalArgumentException(where + ": spill-dir is empty: give the directory of the spill file");
    }
    long bytes = size(where, "spill-size", size);
    try {
      return Optional.of(new SwapSpec.Spill(Path.of(dir), bytes));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage().replace("spill.size", "spill-size"));
    }
  }

  private static long size(String where, String key, String text) {
    try {
      return Sizes.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + key + ": " + e.getMessage());
    }
  }
}
