package dev.remap.operator.swap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.operator.swap.SwapAdmission.Claim;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SwapAdmissionTest {

  static final BigInteger GI = BigInteger.ONE.shiftLeft(30);

  static Claim claim(String name, String created, long gi, String node) {
    return new Claim("vms", name, created, GI.multiply(BigInteger.valueOf(gi)), node);
  }

  @Test
  void aMemoryLimitAboveTheCapNamesBoth() {
    BigInteger four = GI.shiftLeft(2);
    assertThat(SwapAdmission.aboveCap(GI, "1Gi", four, "4Gi", GI, "1Gi")).isEmpty();
    assertThat(SwapAdmission.aboveCap(GI.add(BigInteger.ONE), "1073741825", four, "4Gi", GI, "1Gi"))
        .hasValueSatisfying(m -> assertThat(m)
            .contains("spec.memoryLimit 1073741825", "cap 1Gi (1073741824 bytes", "REMAP_SWAP_POOL_SIZE"));
  }

  /** The node reserves min(memoryLimit, size) (the engine's SwapDisk): a small disk with a big limit fits. */
  @Test
  void aDiskSmallerThanItsMemoryLimitReservesOnlyItsSize() {
    BigInteger four = GI.shiftLeft(2);
    assertThat(SwapAdmission.reserved(four, GI)).isEqualTo(GI);
    assertThat(SwapAdmission.reserved(GI, four)).isEqualTo(GI);
    assertThat(SwapAdmission.aboveCap(four, "4Gi", GI, "1Gi", GI, "1Gi")).as("size 1Gi, memoryLimit 4Gi, cap 1Gi")
        .isEmpty();
    assertThat(SwapAdmission.aboveCap(four.add(GI), "5Gi", GI.shiftLeft(1), "2Gi", GI, "1Gi"))
        .hasValueSatisfying(m -> assertThat(m).contains("spec.size 2Gi", "below spec.memoryLimit 5Gi", "cap 1Gi"));
    // On one node: two swaps of size 1Gi with memoryLimit 4Gi take 2Gi of a 2Gi pool; a third does not fit.
    BigInteger each = SwapAdmission.reserved(four, GI);
    List<Claim> all = List.of(new Claim("vms", "a", "2026-01-01T00:00:00Z", each, "n1"),
        new Claim("vms", "b", "2026-01-02T00:00:00Z", each, "n1"),
        new Claim("vms", "c", "2026-01-03T00:00:00Z", each, "n1"));
    BigInteger cap = GI.shiftLeft(1);
    assertThat(SwapAdmission.onNode(all.get(0), all, cap, "2Gi")).isEmpty();
    assertThat(SwapAdmission.onNode(all.get(1), all, cap, "2Gi")).isEmpty();
    assertThat(SwapAdmission.onNode(all.get(2), all, cap, "2Gi")).hasValueSatisfying(m ->
        assertThat(m).contains("node n1", "the " + GI + " bytes this one reserves", "0 bytes left"));
  }

  @Test
  void onOneNodeTheOldestKeepTheirPlace() {
    List<Claim> all = List.of(
        claim("c", "2026-01-03T00:00:00Z", 2, "n1"),
        claim("a", "2026-01-01T00:00:00Z", 2, "n1"),
        claim("b", "2026-01-02T00:00:00Z", 2, "n1"),
        claim("d", "2026-01-04T00:00:00Z", 1, "n1"),
        claim("elsewhere", "2026-01-01T00:00:00Z", 4, "n2"),
        claim("stopped", "2026-01-01T00:00:00Z", 4, null));
    BigInteger cap = GI.multiply(BigInteger.valueOf(5));
    // a (2) + b (2) = 4; c (2) would make 6 > 5: refused, and takes no room; d (1) fits in the 1 left.
    assertThat(SwapAdmission.onNode(all.get(1), all, cap, "5Gi")).isEmpty();
    assertThat(SwapAdmission.onNode(all.get(2), all, cap, "5Gi")).isEmpty();
    assertThat(SwapAdmission.onNode(all.get(0), all, cap, "5Gi")).hasValueSatisfying(m ->
        assertThat(m).contains("node n1", "cap 5Gi", "older swaps there hold " + GI.multiply(BigInteger.valueOf(4)),
            "do not fit in the " + GI + " bytes left"));
    assertThat(SwapAdmission.onNode(all.get(3), all, cap, "5Gi")).isEmpty();
    assertThat(SwapAdmission.onNode(all.get(4), all, cap, "5Gi")).isEmpty();
    assertThat(SwapAdmission.onNode(all.get(5), all, cap, "5Gi")).as("a swap whose VM does not run holds no pool").isEmpty();
  }

  @Test
  void aSwapAboveTheCapTakesNoRoomOnItsNode() {
    List<Claim> all = List.of(claim("huge", "2026-01-01T00:00:00Z", 9, "n1"), claim("small", "2026-01-02T00:00:00Z", 1, "n1"));
    assertThat(SwapAdmission.onNode(all.get(1), all, GI, "1Gi")).isEmpty();
  }

  /**
   * Properties over random nodes, ages and limits: per node the admitted swaps fit under the cap;
   * each refused one would not fit next to the older admitted ones; and a newer swap never
   * changes the verdict of an older one.
   */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
  void admittedSwapsFitAndOlderVerdictsNeverChange(long seed) {
    Random random = new Random(seed);
    BigInteger cap = BigInteger.valueOf(1 + random.nextInt(64));
    List<Claim> all = new ArrayList<>();
    int n = 1 + random.nextInt(30);
    for (int i = 0; i < n; i++) {
      String node = random.nextInt(5) == 0 ? null : "n" + random.nextInt(3);
      all.add(new Claim("ns" + random.nextInt(2), "s" + i, "2026-01-01T00:00:%02dZ".formatted(random.nextInt(60)),
          BigInteger.valueOf(1 + random.nextInt(40)), node));
    }
    for (String node : new String[] {"n0", "n1", "n2"}) {
      List<Claim> onNode = all.stream().filter(c -> node.equals(c.node()))
          .sorted(SwapAdmission.OLDEST_FIRST).toList();
      BigInteger used = BigInteger.ZERO;
      for (Claim c : onNode) {
        boolean admitted = SwapAdmission.onNode(c, all, cap, "cap").isEmpty();
        boolean fitsAlone = c.reserved().compareTo(cap) <= 0;
        if (!fitsAlone) {
          assertThat(admitted).as("the above-cap rule, not this one, refuses %s", c).isTrue();
          continue;
        }
        assertThat(admitted).as("%s with %s used of %s", c, used, cap)
            .isEqualTo(used.add(c.reserved()).compareTo(cap) <= 0);
        if (admitted) {
          used = used.add(c.reserved());
        }
        // Only the older swaps decide: the verdict is the same with every newer one gone.
        List<Claim> olderAndSelf = onNode.subList(0, onNode.indexOf(c) + 1);
        assertThat(SwapAdmission.onNode(c, olderAndSelf, cap, "cap").isEmpty()).isEqualTo(admitted);
      }
      assertThat(used).isLessThanOrEqualTo(cap);
    }
    assertThat(all.stream().sorted(SwapAdmission.OLDEST_FIRST).toList())
        .isSortedAccordingTo(Comparator.comparing(Claim::created).thenComparing(Claim::namespace).thenComparing(Claim::name));
  }
}
