package dev.remap.operator.swap;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import java.net.URI;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Which of the CSI node plugin's pods on a node to scrape, and at which address. Pure: the pods
 * are listed by {@link NodeSwapFigures}.
 *
 * <p>The pods are the chart's node DaemonSet's (labels {@link #SELECTOR}), in the operator's own
 * namespace; their /metrics is on the container port named {@value #PORT_NAME} (chart value
 * node.httpPort), at the pod's IP.
 */
final class NodePluginPods {

  /** The labels of the node plugin's pods (remap.selectorLabels of component csi-node in the chart). */
  static final Map<String, String> SELECTOR = Map.of("app.kubernetes.io/name", "remap",
      "app.kubernetes.io/component", "csi-node");
  static final String PORT_NAME = "http";

  private NodePluginPods() {}

  /**
   * The metrics address of the running, not terminating pod among these (during a DaemonSet
   * rollout the old pod may still be there: the newest running one serves the node's disks);
   * empty when none runs or none has an IP and an {@value #PORT_NAME} port yet.
   */
  static Optional<URI> metricsUri(List<Pod> pods) {
    return pods.stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
        .filter(p -> p.getStatus().getPodIP() != null && !p.getStatus().getPodIP().isEmpty())
        .sorted(Comparator.comparing((Pod p) -> Objects.toString(p.getMetadata().getCreationTimestamp(), ""))
            .reversed())
        .flatMap(p -> port(p).map(port -> uri(p.getStatus().getPodIP(), port)).stream())
        .findFirst();
  }

  private static Optional<Integer> port(Pod pod) {
    return pod.getSpec() == null ? Optional.empty() : pod.getSpec().getContainers().stream()
        .map(Container::getPorts).filter(Objects::nonNull).flatMap(List::stream)
        .filter(p -> PORT_NAME.equals(p.getName()) && p.getContainerPort() != null)
        .map(ContainerPort::getContainerPort).findFirst();
  }

  private static URI uri(String ip, int port) {
    // An IPv6 pod IP goes in brackets in a URI.
    String host = ip.contains(":") ? "[" + ip + "]" : ip;
    return URI.create("http://" + host + ":" + port + "/metrics");
  }
}
