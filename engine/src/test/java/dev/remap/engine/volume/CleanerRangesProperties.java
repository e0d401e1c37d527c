package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.Geometry;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.Source;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A cleaning step copies only what the stored mapping still maps into a victim, byte for byte:
 * the ranges found once per plan, checked at step time against a mapping that uploads changed
 * since, must give exactly what a fresh walk of the changed mapping gives.
 */
class CleanerRangesProperties {

  private static final int UNIT = 512;
  private static final Geometry GEOMETRY = new Geometry(4 * 64 * 1024, UNIT, 64 * 1024);
  private static final long UNITS = GEOMETRY.size() / UNIT;
  private static final Set<String> VICTIMS = Set.of("seg/a", "seg/b");

  /** A write of units [start, start+length) from key at object unit objectUnit (key null: a trim). */
  record Put(long start, long length, String key, long objectUnit) {}

  @Provide
  Arbitrary<List<Put>> puts() {
    return Combinators.combine(
            Arbitraries.longs().between(0, UNITS - 1),
            Arbitraries.longs().between(1, 300),
            Arbitraries.of("seg/a", "seg/b", "seg/c", null),
            Arbitraries.longs().between(0, 2000))
        .as((start, length, key, objectUnit) -> new Put(start, Math.min(length, UNITS - start), key, objectUnit))
        .list().ofMaxSize(25);
  }

  @Provide
  Arbitrary<List<Put>> laterUploads() {
    // What uploads after the plan do: map ranges to newer segments or trim them, never into a victim.
    return Combinators.combine(
            Arbitraries.longs().between(0, UNITS - 1),
            Arbitraries.longs().between(1, 300),
            Arbitraries.of("seg/new", null),
            Arbitraries.longs().between(0, 2000))
        .as((start, length, key, objectUnit) -> new Put(start, Math.min(length, UNITS - start), key, objectUnit))
        .list().ofMaxSize(10);
  }

  @Property(tries = 300)
  void checkedPlanEqualsFreshWalk(@ForAll("puts") List<Put> before, @ForAll("laterUploads") List<Put> after) {
    MappingTable table = new MappingTable(GEOMETRY);
    before.forEach(p -> apply(table, p));
    Map<String, List<SegmentCleaner.Range>> planned = SegmentCleaner.rangesIn(table, VICTIMS);
    after.forEach(p -> apply(table, p));

    Map<Long, String> checked = units(SegmentCleaner.stillMapped(table, planned));
    Map<Long, String> fresh = units(SegmentCleaner.rangesIn(table, VICTIMS));

    assertThat(checked).isEqualTo(fresh);
  }

  private static void apply(MappingTable table, Put p) {
    Source source = p.key() == null ? Source.Hole.INSTANCE : new Source.Stored(p.key(), p.objectUnit() * UNIT);
    table.put(p.start() * UNIT, p.length() * UNIT, source);
  }

  /** Each volume unit a range set covers, and the object byte it would be copied from. */
  private static Map<Long, String> units(Map<String, List<SegmentCleaner.Range>> ranges) {
    Map<Long, String> out = new HashMap<>();
    ranges.forEach((key, list) -> {
      for (SegmentCleaner.Range r : list) {
        for (long b = 0; b < r.length(); b += UNIT) {
          String previous = out.put(r.volumeOffset() + b, key + "@" + (r.objectOffset() + b));
          assertThat(previous).as("unit %d covered twice", (r.volumeOffset() + b) / UNIT).isNull();
        }
      }
    });
    return out;
  }
}
