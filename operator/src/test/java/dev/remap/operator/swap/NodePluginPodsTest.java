package dev.remap.operator.swap;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which node plugin pod's /metrics the operator scrapes. */
class NodePluginPodsTest {

  private static Pod pod(String name, String created, String phase, String ip, String portName, boolean deleting) {
    return Serialization.unmarshal("""
        apiVersion: v1
        kind: Pod
        metadata: {name: %s, namespace: remap-system, creationTimestamp: "%s"%s}
        spec:
          nodeName: node-1
          containers:
          - {name: registrar, image: r, ports: [{name: grpc, containerPort: 9808}]}
          - {name: csi, image: c, ports: [{name: %s, containerPort: 9101}]}
        status: {phase: %s%s}
        """.formatted(name, created, deleting ? ", deletionTimestamp: \"2026-01-02T00:00:00Z\"" : "", portName, phase,
        ip == null ? "" : ", podIP: \"" + ip + "\""), Pod.class);
  }

  @Test
  void theRunningPodsHttpPortAtItsIp() {
    assertThat(NodePluginPods.metricsUri(List.of(pod("a", "2026-01-01T00:00:00Z", "Running", "10.1.2.3", "http", false))))
        .contains(URI.create("http://10.1.2.3:9101/metrics"));
    assertThat(NodePluginPods.metricsUri(List.of(pod("a", "2026-01-01T00:00:00Z", "Running", "fd00::7", "http", false))))
        .contains(URI.create("http://[fd00::7]:9101/metrics"));
  }

  @Test
  void duringARolloutTheNewestRunningPodThatIsNotGoing() {
    List<Pod> pods = List.of(
        pod("old", "2026-01-01T00:00:00Z", "Running", "10.0.0.1", "http", true),
        pod("older", "2025-12-01T00:00:00Z", "Running", "10.0.0.2", "http", false),
        pod("starting", "2026-01-03T00:00:00Z", "Pending", null, "http", false),
        pod("new", "2026-01-02T00:00:00Z", "Running", "10.0.0.3", "http", false));
    assertThat(NodePluginPods.metricsUri(pods)).contains(URI.create("http://10.0.0.3:9101/metrics"));
  }

  @Test
  void nothingWhenNoPodRunsHasAnIpOrAnHttpPort() {
    assertThat(NodePluginPods.metricsUri(List.of())).isEmpty();
    assertThat(NodePluginPods.metricsUri(List.of(pod("a", "2026-01-01T00:00:00Z", "Pending", null, "http", false))))
        .isEmpty();
    assertThat(NodePluginPods.metricsUri(List.of(pod("a", "2026-01-01T00:00:00Z", "Running", "10.0.0.1", "metrics",
        false)))).isEmpty();
    assertThat(NodePluginPods.metricsUri(List.of(pod("a", "2026-01-01T00:00:00Z", "Failed", "10.0.0.1", "http",
        false)))).isEmpty();
  }
}
