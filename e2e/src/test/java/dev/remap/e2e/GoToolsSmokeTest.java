package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The tools built from Go modules into the cache run and report their real versions. */
class GoToolsSmokeTest {

  private static String version(String tool, String... args) {
    String[] command = new String[args.length + 1];
    command[0] = RemapPaths.cachedTool(tool).toString();
    System.arraycopy(args, 0, command, 1, args.length);
    return Proc.run(Duration.ofSeconds(60), command).requireSuccess().output();
  }

  @Test
  void csiSanityRuns() {
    assertThat(version("csi-sanity", "-version")).containsPattern("v5\\.\\d+\\.\\d+");
  }

  @Test
  void helmRuns() {
    assertThat(version("helm", "version", "--short")).containsPattern("v3\\.\\d+\\.\\d+");
  }

  @Test
  void controlPlaneBinariesReportTheirRealVersions() {
    assertThat(version("kube-apiserver", "--version")).containsPattern("Kubernetes v1\\.\\d+\\.\\d+");
    assertThat(version("kube-controller-manager", "--version")).containsPattern("Kubernetes v1\\.\\d+\\.\\d+");
    assertThat(version("kubectl", "version", "--client")).containsPattern("Client Version: v1\\.\\d+\\.\\d+");
    assertThat(version("etcd", "--version")).containsPattern("etcd Version: 3\\.\\d+\\.\\d+");
  }
}
