package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How far the journal may be retired, and when a FLUSH needs a barrier first. */
class RetirementGateTest {

  private final RetirementGate gate = new RetirementGate();

  @Test
  void withNoFlushTheJournalGoesAsFarAsSegmentsHoldIt() {
    assertThat(gate.retirable(0, 40)).isEqualTo(40);
    assertThat(gate.flushWaits(0)).isFalse();
  }

  @Test
  void aFlushCoveringRecordsNoBarrierReachedHoldsThemUntilOneDoes() {
    assertThat(gate.flushing(30, 10)).as("nothing retired lazily: no barrier needed").isZero();
    assertThat(gate.flushWaits(10)).isTrue();
    assertThat(gate.retirable(10, 40)).as("only what barriers made durable").isEqualTo(10);
    assertThat(gate.flushWaits(30)).isFalse();
    assertThat(gate.retirable(30, 40)).as("the barriers caught up with the FLUSH").isEqualTo(40);
  }

  @Test
  void aFlushAfterALazyRetirementWaitsForABarrierUpToIt() {
    assertThat(gate.retirable(10, 40)).isEqualTo(40);
    assertThat(gate.flushing(45, 10)).as("the barrier the FLUSH needs").isEqualTo(40);
    assertThat(gate.flushing(45, 40)).as("once segments are durable to 40").isZero();
  }

  @Test
  void aFlushCoveringOnlyDurableRecordsNeedsNoBarrier() {
    assertThat(gate.retirable(10, 40)).isEqualTo(40);
    assertThat(gate.flushing(8, 10)).isZero();
    assertThat(gate.retirable(10, 50)).as("that FLUSH holds nothing back").isEqualTo(50);
  }
}
