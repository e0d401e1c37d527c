package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.Test;

class EvictionPolicyProperties {

  enum Kind { ADD, ACCESS, REMOVE }

  record Op(Kind kind, int key, int size) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    return Combinators.combine(
            Arbitraries.of(Kind.class), Arbitraries.integers().between(0, 30), Arbitraries.integers().between(1, 40))
        .as(Op::new).list().ofMaxSize(200);
  }

  /** The policy's view agrees with a plain map of what the cache holds, and never overflows. */
  @Property(tries = 200)
  void neverExceedsCapacityAndKnowsExactlyWhatIsCached(@ForAll("ops") List<Op> ops) {
    EvictionPolicy<Integer> policy = new EvictionPolicy<>(100, 0.75);
    Map<Integer, Integer> cached = new HashMap<>();
    for (Op op : ops) {
      switch (op.kind()) {
        case ADD -> {
          cached.remove(op.key());
          cached.put(op.key(), op.size());
          List<Integer> evicted = policy.add(op.key(), op.size());
          assertThat(new HashSet<>(evicted)).as("each key evicted once").hasSameSizeAs(evicted);
          evicted.forEach(k -> assertThat(cached.remove(k)).as("evicted %s was cached", k).isNotNull());
          if (op.size() <= 100) {
            assertThat(policy.contains(op.key())).as("a fitting new entry is admitted").isTrue();
          }
        }
        case ACCESS -> assertThat(policy.access(op.key())).isEqualTo(cached.containsKey(op.key()));
        case REMOVE -> {
          policy.remove(op.key());
          cached.remove(op.key());
        }
      }
      assertThat(policy.usedBytes()).isEqualTo(cached.values().stream().mapToLong(Integer::longValue).sum());
      assertThat(policy.usedBytes()).isLessThanOrEqualTo(100);
      for (int key = 0; key <= 30; key++) {
        assertThat(policy.contains(key)).isEqualTo(cached.containsKey(key));
      }
    }
  }

  @Test
  void aOneTimeScanDoesNotFlushTheWorkingSet() {
    EvictionPolicy<String> policy = new EvictionPolicy<>(100, 0.8);
    Set<String> hot = Set.of("h0", "h1", "h2", "h3", "h4", "h5");
    for (String key : hot) {
      policy.add(key, 10);
      policy.access(key);
    }
    for (int i = 0; i < 1000; i++) {
      policy.add("scan" + i, 10);
    }
    for (String key : hot) {
      assertThat(policy.contains(key)).as(key).isTrue();
    }
  }

  @Test
  void anEntryLargerThanTheCacheIsRejectedAtOnce() {
    EvictionPolicy<String> policy = new EvictionPolicy<>(100, 0.5);
    policy.add("small", 10);
    assertThat(policy.add("huge", 101)).containsExactly("huge");
    assertThat(policy.contains("small")).isTrue();
  }
}
