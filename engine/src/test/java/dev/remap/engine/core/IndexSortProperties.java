package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** {@link IndexSort} against what a stable sort of the indexes by their keys gives. */
class IndexSortProperties {

  /** Every index once, keys ascending, ties in index order. */
  @Property(tries = 400)
  void sortedByKeyIsAStableSortOfTheIndexes(@ForAll("keys") long[] keys) {
    int[] order = IndexSort.byKey(keys);
    assertThat(order).hasSize(keys.length);
    assertThat(java.util.Arrays.stream(order).sorted().toArray())
        .isEqualTo(java.util.stream.IntStream.range(0, keys.length).toArray());
    for (int k = 1; k < order.length; k++) {
      long before = keys[order[k - 1]];
      long after = keys[order[k]];
      assertThat(before < after || (before == after && order[k - 1] < order[k])).as("position %d", k).isTrue();
    }
  }

  @Provide
  Arbitrary<long[]> keys() {
    return Arbitraries.longs().between(0, 40).array(long[].class).ofMaxSize(70);
  }
}
