package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.Source;
import dev.remap.engine.journal.Journal;
import dev.remap.engine.journal.JournalRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The uploader's queue of changes not uploaded yet: batches by bytes, in order, and the delay's clock. */
class PendingChangesTest {

  private static Journal.Appended write(long seq, int length) {
    return new Journal.Appended(new JournalRecord(JournalRecord.Type.WRITE, seq, seq << 20, length),
        new Source.Journaled("f", seq * 100));
  }

  private static Journal.Appended trim(long seq) {
    return new Journal.Appended(new JournalRecord(JournalRecord.Type.TRIM, seq, 0, 1 << 20), null);
  }

  @Test
  void aBatchTakesTheOldestUntilTheyCarryTheTargetAndAtLeastOne() {
    PendingChanges pending = new PendingChanges();
    assertThat(pending.nextBatch(100)).isEmpty();
    assertThat(pending.addAll(List.of(write(1, 60), trim(2), write(3, 60), write(4, 60)), 10)).as("first").isTrue();
    assertThat(pending.addAll(List.of(write(5, 500)), 20)).as("first again").isFalse();
    assertThat(pending.bytes()).as("bytes (a trim carries none)").isEqualTo(680);

    assertThat(pending.nextBatch(100)).extracting(a -> a.record().seq()).containsExactly(1L, 2L, 3L);
    assertThat(pending.nextBatch(10)).extracting(a -> a.record().seq()).containsExactly(1L);
    assertThat(pending.nextBatch(0)).as("at least one").hasSize(1);
  }

  @Test
  void removingAnUploadedBatchRestartsTheDelaysClockForWhatIsLeft() {
    PendingChanges pending = new PendingChanges();
    pending.addAll(List.of(write(1, 60), write(2, 40)), 1_000);
    assertThat(pending.ageNanos(1_500)).isEqualTo(500);
    assertThat(pending.removeOldest(1, 2_000)).as("bytes removed").isEqualTo(60);
    assertThat(pending.bytes()).isEqualTo(40);
    assertThat(pending.ageNanos(2_100)).as("the clock restarted for the rest").isEqualTo(100);
    assertThat(pending.removeOldest(1, 3_000)).isEqualTo(40);
    assertThat(pending.isEmpty()).isTrue();
    assertThat(pending.addAll(List.of(write(3, 1)), 5_000)).as("empty again: the next add starts the clock").isTrue();
    assertThat(pending.ageNanos(5_001)).isEqualTo(1);
  }
}
