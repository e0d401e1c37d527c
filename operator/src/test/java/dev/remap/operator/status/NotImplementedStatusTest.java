package dev.remap.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.swap.VmMemorySwapStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class NotImplementedStatusTest {

  @Test
  void progressingWithReasonNotImplementedAndNeverReady() {
    VmMemorySwapStatus s = NotImplementedStatus.fill(new VmMemorySwapStatus(), List.of(), 2, Instant.EPOCH, "VmMemorySwap");
    assertThat(s.observedGeneration).isEqualTo(2L);
    assertThat(Conditions.isTrue(s.conditions, "Ready")).isFalse();
    assertThat(Conditions.isTrue(s.conditions, "Progressing")).isTrue();
    assertThat(s.conditions).allSatisfy(c -> {
      assertThat(c.getReason()).isEqualTo("NotImplemented");
      assertThat(c.getObservedGeneration()).isEqualTo(2L);
    });
    assertThat(Conditions.find(s.conditions, "Progressing").orElseThrow().getMessage())
        .contains("VmMemorySwap is accepted and validated", "not implemented");
    VmMemorySwapStatus again = NotImplementedStatus.fill(new VmMemorySwapStatus(), s.conditions, 2, Instant.now(), "VmMemorySwap");
    assertThat(StatusDiff.changed(s, again)).isFalse();
  }
}
