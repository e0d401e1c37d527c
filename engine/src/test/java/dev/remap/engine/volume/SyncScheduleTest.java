package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * When a barrier is due: by the age of the oldest unsynced segment, by journal bytes while a FLUSH
 * holds them in the journal, never while none waits.
 */
class SyncScheduleTest {

  private static final long MIB = 1 << 20;
  private static final long SECOND = 1_000_000_000L;

  private final SyncSchedule schedule = new SyncSchedule(Duration.ofSeconds(10), 16 * MIB);

  @Test
  void nothingIsDueWhileNoSegmentWaits() {
    assertThat(schedule.nanosUntilDue(15 * MIB, true, 0)).isEqualTo(Long.MAX_VALUE);
    schedule.worked(MIB, false, 0);
    assertThat(schedule.nanosUntilDue(15 * MIB, true, 0)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void theOldestUnsyncedSegmentIsSyncedAfterTheDelay() {
    schedule.worked(MIB, true, 100 * SECOND);
    schedule.worked(MIB, true, 105 * SECOND); // a later one does not move the clock
    assertThat(schedule.nanosUntilDue(2 * MIB, true, 106 * SECOND)).isEqualTo(4 * SECOND);
    assertThat(schedule.nanosUntilDue(2 * MIB, true, 110 * SECOND)).isLessThanOrEqualTo(0);

    schedule.worked(0, false, 111 * SECOND); // a barrier
    schedule.worked(MIB, true, 120 * SECOND);
    assertThat(schedule.nanosUntilDue(MIB, true, 121 * SECOND)).isEqualTo(9 * SECOND);
  }

  @Test
  void aQuarterOfTheJournalWaitingOrAJournalThreeQuartersFullSyncsAtOnce() {
    schedule.worked(3 * MIB, true, 0);
    assertThat(schedule.nanosUntilDue(3 * MIB, true, 0)).isPositive();
    schedule.worked(MIB, true, 0);
    assertThat(schedule.nanosUntilDue(4 * MIB, true, 0)).isLessThanOrEqualTo(0);

    schedule.worked(0, false, 0);
    schedule.worked(MIB, true, 0);
    assertThat(schedule.nanosUntilDue(12 * MIB - 1, true, 0)).isPositive();
    assertThat(schedule.nanosUntilDue(12 * MIB, true, 0)).isLessThanOrEqualTo(0);
  }

  @Test
  void journalBytesNoFlushHoldsWaitOnlyForTheDelay() {
    schedule.worked(8 * MIB, true, 0);
    assertThat(schedule.nanosUntilDue(15 * MIB, false, SECOND)).as("a quarter waiting, three quarters full")
        .isEqualTo(9 * SECOND);
    assertThat(schedule.nanosUntilDue(15 * MIB, true, SECOND)).as("the same held by a FLUSH").isLessThanOrEqualTo(0);
  }
}
