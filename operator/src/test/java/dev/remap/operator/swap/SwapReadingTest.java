package dev.remap.operator.swap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.swap.VmMemorySwapStatus;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which counters status shows for each answer of a node, and that the ten travel together. */
class SwapReadingTest {

  private static final SwapFigures LAST = new SwapFigures(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  private static final SwapFigures NOW = new SwapFigures(11, 12, 13, 14, 15, 16, 17, 18, 19, 0);

  @Test
  void theNodesAnswerWinsAndOnlyNoAnswerKeepsTheLastCounters() {
    assertThat(SwapReading.served(NOW).orLast(Optional.of(LAST))).contains(NOW);
    assertThat(SwapReading.notServed().orLast(Optional.of(LAST))).as("the disk exists nowhere").isEmpty();
    assertThat(SwapReading.unreachable("timed out").orLast(Optional.of(LAST))).contains(LAST);
    assertThat(SwapReading.unreachable("timed out").orLast(Optional.empty())).isEmpty();
  }

  @Test
  void countersGoIntoAStatusAndComeBackOutAllTen() {
    VmMemorySwapStatus s = new VmMemorySwapStatus();
    assertThat(SwapFigures.of(s)).isEmpty();
    assertThat(SwapFigures.of(null)).isEmpty();
    NOW.copyTo(s);
    assertThat(s.residentBytes).isEqualTo(11);
    assertThat(s.bytesCopied).isZero();
    assertThat(SwapFigures.of(s)).contains(NOW);
    // A status edited by hand with one counter gone carries none over, rather than nine and a hole.
    s.spillLoads = null;
    assertThat(SwapFigures.of(s)).isEmpty();
  }
}
