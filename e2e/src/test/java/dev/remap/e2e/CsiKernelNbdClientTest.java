package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.RemapPaths;
import dev.remap.testkit.TestGuest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The node plugin's kernel NBD client path ({@code AttachMethod.NBD_CLIENT}), which this
 * machine's kernel cannot run (no nbd module): the test guest boots a kernel that has it, with
 * this machine's programs (Java, the built project, nbdkit, nbd-client) shared into it, and runs
 * {@link KernelNbdScenario} there against `./remap csi`. Slow (software emulation): a few minutes.
 */
class CsiKernelNbdClientTest {

  @Test
  void stagedVolumesRunOnKernelNbdDevicesThroughGrowthAndAPluginRestart() {
    String java = System.getProperty("java.home") + "/bin/java";
    String script = String.join("\n",
        "chroot /host /bin/sh -c '"
            + "rm -rf /var/tmp/remap-kernel-nbd-scenario && cd " + RemapPaths.root() + " && "
            + "export REMAP_JAVA_OPTS=\"-Xmx384m -XX:TieredStopAtLevel=1\" && "
            + "exec " + java + " -Xmx256m -XX:TieredStopAtLevel=1 -Dremap.root=" + RemapPaths.root()
            + " -Dremap.csi.startSeconds=240 -cp " + System.getProperty("java.class.path")
            + " dev.remap.e2e.KernelNbdScenario /var/tmp/remap-kernel-nbd-scenario'",
        "");
    TestGuest.Run run = new TestGuest().withHostRoot().withMemoryMb(3072).withTimeout(Duration.ofMinutes(12))
        .run(script);
    assertThat(run.console()).as(run.console()).contains("KERNEL-NBD-SCENARIO PASSED");
    assertThat(run.exitCode()).isZero();
  }
}
