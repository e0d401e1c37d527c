package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The primitive index keeps the policy of {@link EvictionPolicy} for pages of one size: run side
 * by side, the two keep the same pages and drop the same ones in the same order, and the index
 * gives each page it keeps a slot of its own that stays put until the page goes.
 */
class PageSlotsProperties {

  enum Kind { ADD, ACCESS, REMOVE, REMOVE_RANGE, CLEAR }

  record Op(Kind kind, long page, int span) {}

  /** Mostly adds and hits, with now and then an invalidation or a clear, over a few pages. */
  @Provide
  Arbitrary<List<Op>> fewPages() {
    Arbitrary<Kind> kinds = Arbitraries.frequency(Tuple.of(10, Kind.ADD), Tuple.of(8, Kind.ACCESS),
        Tuple.of(3, Kind.REMOVE), Tuple.of(1, Kind.REMOVE_RANGE), Tuple.of(1, Kind.CLEAR));
    return ops(kinds, 16, 0, 300);
  }

  /** Enough adds over enough pages to fill an index past its first array and table sizes, and to evict. */
  @Provide
  Arbitrary<List<Op>> manyPages() {
    Arbitrary<Kind> kinds = Arbitraries.frequency(Tuple.of(30, Kind.ADD), Tuple.of(8, Kind.ACCESS),
        Tuple.of(1, Kind.REMOVE), Tuple.of(1, Kind.REMOVE_RANGE));
    return ops(kinds, 2000, 4000, 6000);
  }

  private static Arbitrary<List<Op>> ops(Arbitrary<Kind> kinds, int pages, int minOps, int maxOps) {
    // Uniform: the default leans to small numbers, and would leave most of the pages unused.
    Arbitrary<Long> page = Arbitraries.longs().between(0, pages - 1).withDistribution(RandomDistribution.uniform());
    return Combinators.combine(kinds, page, Arbitraries.integers().between(0, 40))
        .as(Op::new).list().ofMinSize(minOps).ofMaxSize(maxOps);
  }

  @Provide
  Arbitrary<Double> shares() {
    return Arbitraries.of(0.0, 0.25, 0.5, 0.75, 0.8, 0.99);
  }

  @Property(tries = 400)
  void keepsAndDropsWhatTheEvictionPolicyDoes(
      @ForAll @IntRange(min = 1, max = 10) int capacity, @ForAll("shares") double share,
      @ForAll("fewPages") List<Op> ops) {
    runSideBySide(capacity, share, ops, 16, 1);
  }

  /** Enough pages to grow the arrays and the table past their first size, and to clash in it. */
  @Property(tries = 30)
  void agreesAlsoWhenTheIndexGrows(
      @ForAll @IntRange(min = 1025, max = 1300) int capacity, @ForAll("shares") double share,
      @ForAll("manyPages") List<Op> ops) {
    runSideBySide(capacity, share, ops, 2000, 50);
  }

  /** Checks every page after each checkEvery-th op (and after the last): many pages take long to check. */
  private static void runSideBySide(int capacity, double share, List<Op> ops, int pages, int checkEvery) {
    PageSlots slots = new PageSlots(capacity, share);
    EvictionPolicy<Long> policy = new EvictionPolicy<>(capacity, share);
    Map<Long, Integer> slotOf = new HashMap<>();
    List<Long> droppedBySlots = new ArrayList<>();
    List<Long> droppedByPolicy = new ArrayList<>();
    for (int n = 0; n < ops.size(); n++) {
      Op op = ops.get(n);
      long page = op.page();
      switch (op.kind()) {
        case ADD -> {
          droppedByPolicy.addAll(policy.add(page, 1));
          slotOf.remove(page);
          int slot = slots.add(page);
          if (slots.lastEvicted() >= 0) {
            droppedBySlots.add(slots.lastEvicted());
            assertThat(slotOf.remove(slots.lastEvicted())).as("the dropped page's slot goes to the newcomer")
                .isEqualTo(slot);
          }
          assertThat(slot).as("slot of %s", page).isBetween(0, capacity - 1);
          slotOf.put(page, slot);
        }
        case ACCESS -> {
          boolean hit = policy.access(page);
          int slot = slots.access(page);
          assertThat(slot >= 0).as("hit on %s", page).isEqualTo(hit);
          if (hit) {
            assertThat(slot).as("a hit finds the page where it was put").isEqualTo(slotOf.get(page));
          }
        }
        case REMOVE -> {
          boolean kept = policy.contains(page);
          policy.remove(page);
          assertThat(slots.remove(page)).isEqualTo(kept);
          slotOf.remove(page);
        }
        case REMOVE_RANGE -> {
          long last = page + op.span() - 1;
          int kept = 0;
          for (long p = page; p <= last; p++) {
            if (policy.contains(p)) {
              kept++;
              policy.remove(p);
              slotOf.remove(p);
            }
          }
          assertThat(slots.removeRange(page, last)).isEqualTo(kept);
        }
        case CLEAR -> {
          for (long p = 0; p < pages; p++) {
            policy.remove(p);
          }
          slots.clear();
          slotOf.clear();
        }
      }
      assertThat(droppedBySlots).as("pages dropped, in order").isEqualTo(droppedByPolicy);
      assertThat((long) slots.size()).isEqualTo(policy.usedBytes()).isEqualTo(slotOf.size());
      if (n % checkEvery == 0 || n == ops.size() - 1) {
        checkEveryPage(slots, policy, slotOf, pages);
      }
    }
  }

  private static void checkEveryPage(
      PageSlots slots, EvictionPolicy<Long> policy, Map<Long, Integer> slotOf, int pages) {
    Set<Integer> used = new HashSet<>();
    for (long p = 0; p < pages; p++) {
      int slot = slots.lookup(p);
      if ((slot >= 0) != policy.contains(p)) {
        throw new AssertionError("page " + p + " kept by the " + (slot >= 0 ? "index" : "policy") + " only");
      }
      if (slot >= 0 && (slot != slotOf.get(p) || !used.add(slot))) {
        throw new AssertionError("page " + p + " in slot " + slot + ", put in " + slotOf.get(p) + "; seen " + used);
      }
    }
  }

  @Test
  void aOneTimeScanDoesNotFlushTheWorkingSet() {
    PageSlots slots = new PageSlots(10, 0.8);
    for (long page = 0; page < 6; page++) {
      slots.add(page);
      slots.access(page);
    }
    for (long page = 100; page < 1100; page++) {
      slots.add(page);
    }
    for (long page = 0; page < 6; page++) {
      assertThat(slots.lookup(page)).as("page %s", page).isNotNegative();
    }
  }

  @Test
  void anIndexWithoutRoomDropsEachNewcomerAtOnce() {
    PageSlots slots = new PageSlots(0, 0.8);
    assertThat(slots.add(7)).isEqualTo(-1);
    assertThat(slots.lastEvicted()).isEqualTo(7);
    assertThat(slots.lookup(7)).isEqualTo(-1);
    assertThat(slots.size()).isZero();
  }

  @Test
  void farApartAndLargePageNumbersAreFoundAndRemoved() {
    PageSlots slots = new PageSlots(64, 0.5);
    List<Long> pages = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      pages.add(i % 2 == 0 ? (long) i << 40 : Long.MAX_VALUE - i);
    }
    pages.forEach(slots::add);
    for (int i = 0; i < 64; i += 3) {
      assertThat(slots.remove(pages.get(i))).isTrue();
    }
    for (int i = 0; i < 64; i++) {
      assertThat(slots.lookup(pages.get(i)) >= 0).as("page %s", pages.get(i)).isEqualTo(i % 3 != 0);
    }
    assertThat(slots.removeRange(0, Long.MAX_VALUE)).isEqualTo(64 - 22);
    assertThat(slots.size()).isZero();
    assertThatThrownBy(() -> slots.add(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}
