package dev.remap.engine.nbd;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A catalog of fixed exports, held in memory: the option phase without a store, for unit and fuzz tests. */
final class MemoryCatalog implements Negotiation.Catalog<MemoryCatalog.Open> {

  record Open(ExportInfo info) implements Negotiation.Opened {}

  private final Map<String, ExportInfo> exports = new LinkedHashMap<>();

  MemoryCatalog add(String name, long size, boolean readOnly) {
    exports.put(name, new ExportInfo(name, size, readOnly, 4096));
    return this;
  }

  /** An export whose device declared exactly these capabilities. */
  MemoryCatalog add(String name, long size, dev.remap.engine.block.Capabilities capabilities) {
    exports.put(name, new ExportInfo(name, size, capabilities, 4096));
    return this;
  }

  static MemoryCatalog standard() {
    return new MemoryCatalog().add("vm1", 1L << 30, false).add("vm1@s1", 1L << 30, true).add("", 4096, false);
  }

  @Override
  public List<String> names() {
    return new ArrayList<>(exports.keySet());
  }

  @Override
  public Optional<ExportInfo> describe(String name) {
    return Optional.ofNullable(exports.get(name));
  }

  @Override
  public Optional<Open> open(String name) {
    return describe(name).map(Open::new);
  }
}
