package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When a barrier is due: by the age of the oldest unsynced segment, by journal bytes, never while none waits. */
class SyncScheduleTest {

  private static final long MIB = 1 << 20;
  private static final long SECOND = 1_000_000_000L;

  private final SyncSchedule schedule = new SyncSchedule(Duration.ofSeconds(10), 16 * MIB);

  @Test
  void nothingIsDueWhileNoSegmentWaits() {
    assertThat(schedule.nanosUntilDue(15 * MIB, 0)).isEqualTo(Long.MAX_VALUE);
    schedule.worked(MIB, false, 0);
    assertThat(schedule.nanosUntilDue(15 * MIB, 0)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void theOldestUnsyncedSegmentIsSyncedAfterTheDelay() {
    schedule.worked(MIB, true, 100 * SECOND);
    schedule.worked(MIB, true, 105 * SECOND); // a later one does not move the clock
    assertThat(schedule.nanosUntilDue(2 * MIB, 106 * SECOND)).isEqualTo(4 * SECOND);
    assertThat(schedule.nanosUntilDue(2 * MIB, 110 * SECOND)).isLessThanOrEqualTo(0);

    schedule.worked(0, false, 111 * SECOND); // a barrier
    schedule.worked(MIB, true, 120 * SECOND);
    assertThat(schedule.nanosUntilDue(MIB, 121 * SECOND)).isEqualTo(9 * SECOND);
  }

  @Test
  void aQuarterOfTheJournalWaitingOrAJournalThreeQuartersFullSyncsAtOnce() {
    schedule.worked(3 * MIB, true, 0);
    assertThat(schedule.nanosUntilDue(3 * MIB, 0)).isPositive();
    schedule.worked(MIB, true, 0);
    assertThat(schedule.nanosUntilDue(4 * MIB, 0)).isLessThanOrEqualTo(0);

    schedule.worked(0, false, 0);
    schedule.worked(MIB, true, 0);
    assertThat(schedule.nanosUntilDue(12 * MIB - 1, 0)).isPositive();
    assertThat(schedule.nanosUntilDue(12 * MIB, 0)).isLessThanOrEqualTo(0);
  }
}
