package dev.remap.operator.share;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.common.GoDuration;
import dev.remap.api.share.LogicalDiskShare;
import dev.remap.api.share.LogicalDiskShareSpec;
import dev.remap.api.share.SyncPolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A settled share is looked at again about as often as its agent re-checks the cloud. */
class LogicalDiskShareRecheckTest {

  private static LogicalDiskShare share(String retryInterval) {
    LogicalDiskShare share = new LogicalDiskShare();
    share.setSpec(new LogicalDiskShareSpec());
    share.getSpec().sync = new SyncPolicy();
    share.getSpec().sync.retryInterval = retryInterval;
    return share;
  }

  @Test
  void theRetryIntervalBoundedByASecondAndTheRefresh() {
    Duration refresh = Duration.ofSeconds(10);
    assertThat(LogicalDiskShareReconciler.settledRecheck(share("1s"), refresh)).isEqualTo(Duration.ofSeconds(1));
    assertThat(LogicalDiskShareReconciler.settledRecheck(share("500ms"), refresh)).isEqualTo(Duration.ofSeconds(1));
    assertThat(LogicalDiskShareReconciler.settledRecheck(share("3s"), refresh)).isEqualTo(Duration.ofSeconds(3));
    assertThat(LogicalDiskShareReconciler.settledRecheck(share("1m30s"), refresh)).isEqualTo(refresh);
    assertThat(GoDuration.parse("x", "1.5h")).isEqualTo(Duration.ofMinutes(90));
    assertThat(GoDuration.parse("x", "2m500ms")).isEqualTo(Duration.ofMillis(120_500));
  }
}
