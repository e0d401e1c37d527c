package dev.remap.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.share.LogicalDiskShareStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class NotImplementedStatusTest {

  @Test
  void progressingWithReasonNotImplementedAndNeverReady() {
    LogicalDiskShareStatus s = NotImplementedStatus.fill(new LogicalDiskShareStatus(), List.of(), 2, Instant.EPOCH, "LogicalDiskShare");
    assertThat(s.observedGeneration).isEqualTo(2L);
    assertThat(Conditions.isTrue(s.conditions, "Ready")).isFalse();
    assertThat(Conditions.isTrue(s.conditions, "Progressing")).isTrue();
    assertThat(s.conditions).allSatisfy(c -> {
      assertThat(c.getReason()).isEqualTo("NotImplemented");
      assertThat(c.getObservedGeneration()).isEqualTo(2L);
    });
    assertThat(Conditions.find(s.conditions, "Progressing").orElseThrow().getMessage())
        .contains("LogicalDiskShare is accepted and validated", "not implemented");
    LogicalDiskShareStatus again = NotImplementedStatus.fill(new LogicalDiskShareStatus(), s.conditions, 2, Instant.now(), "LogicalDiskShare");
    assertThat(StatusDiff.changed(s, again)).isFalse();
  }
}
