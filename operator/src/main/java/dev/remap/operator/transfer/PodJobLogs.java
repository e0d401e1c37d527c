package dev.remap.operator.transfer;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * JobLogs from the API server: the Job's pods (label job-name, in the Job's namespace only) and
 * the newest one's log tail through pods/log. Bounded reads (20 lines, 4 KiB) so a reconcile
 * never waits on data; any failure (pod not started, kubelet unreachable) is "nothing yet".
 */
public final class PodJobLogs implements JobLogs {

  static final int TAIL_LINES = 20;
  static final int LIMIT_BYTES = 4096;
  private final KubernetesClient client;

  public PodJobLogs(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public String tail(String namespace, String job) {
    try {
      Optional<Pod> pod = newest(namespace, job);
      if (pod.isEmpty()) {
        return "";
      }
      String log = client.pods().inNamespace(namespace).withName(pod.get().getMetadata().getName())
          .limitBytes(LIMIT_BYTES).tailingLines(TAIL_LINES).getLog();
      return log == null ? "" : log;
    } catch (KubernetesClientException e) {
      return "";
    }
  }

  @Override
  public String terminationMessage(String namespace, String job) {
    try {
      return newest(namespace, job).map(PodJobLogs::terminated).map(ContainerStateTerminated::getMessage).orElse(null);
    } catch (KubernetesClientException e) {
      return null;
    }
  }

  private Optional<Pod> newest(String namespace, String job) {
    List<Pod> pods = client.pods().inNamespace(namespace).withLabel("job-name", job).list().getItems();
    return pods.stream().max(Comparator.comparing(p -> Objects.toString(p.getMetadata().getCreationTimestamp(), "")));
  }

  private static ContainerStateTerminated terminated(Pod pod) {
    List<ContainerStatus> statuses = pod.getStatus() == null ? null : pod.getStatus().getContainerStatuses();
    if (statuses == null) {
      return null;
    }
    return statuses.stream().map(s -> s.getState() == null ? null : s.getState().getTerminated())
        .filter(Objects::nonNull).findFirst().orElse(null);
  }
}
