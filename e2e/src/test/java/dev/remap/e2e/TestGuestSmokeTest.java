package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.TestGuest;
import org.junit.jupiter.api.Test;

/** The QEMU test guest boots under software emulation, runs the script it is handed and reports. */
class TestGuestSmokeTest {

  @Test
  void bootsRunsTheScriptAndReportsItsExitCode() {
    TestGuest.Run run = new TestGuest().run("""
        echo "guest-kernel $(uname -r)"
        grep -q ' / ' /proc/mounts || true
        lsmod | grep -q '^virtio_blk' && echo guest-virtio-blk-loaded
        echo remap-smoke-marker
        exit 7
        """);
    assertThat(run.console()).contains("remap-smoke-marker").contains("guest-virtio-blk-loaded");
    assertThat(run.exitCode()).isEqualTo(7);
  }
}
