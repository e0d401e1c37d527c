package dev.remap.operator.it;

import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.awaitility.Awaitility;

/**
 * Plays a transfer Job's pod where no kubelet runs: runs the real `./remap` with the Job's own
 * arguments and environment (each secretKeyRef resolved from its Secret, as the kubelet does),
 * then writes the pod's status as the kubelet would (terminated, exit code, the termination
 * message the command wrote). kube-controller-manager's real Job controller does the rest:
 * it marks the Job Complete, or retries and finally marks it Failed.
 */
final class JobPart {

  /** What the command did: exit code, stdout, and the termination message it wrote. */
  record Outcome(int exitCode, String output, String terminationMessage) {}

  private JobPart() {}

  static Outcome run(KubernetesClient admin, Job job, Path dir) {
    Container c = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
      SecretKeySelector ref = e.getValueFrom().getSecretKeyRef();
      // The operator copies the credentials just after creating the Job; a kubelet keeps the pod
      // waiting (CreateContainerConfigError) until the Secret exists, and so does this.
      Secret secret = Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> admin.secrets().inNamespace(job.getMetadata().getNamespace()).withName(ref.getName()).get(),
              Objects::nonNull);
      env.put(e.getName(), new String(Base64.getDecoder().decode(secret.getData().get(ref.getKey())), StandardCharsets.UTF_8));
    }
    try {
      Path log = Files.writeString(Files.createTempFile(dir, "termination-log", ""), "");
      List<String> command = new ArrayList<>(List.of(RemapPaths.root().resolve("remap").toString()));
      command.addAll(c.getArgs());
      command.add("--termination-log=" + log);
      Proc.Result r = Proc.run(Duration.ofMinutes(3), env, command);
      return new Outcome(r.exitCode(), r.output(), Files.readString(log));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The kubelet's part: the pod ran and ended with exitCode and message. */
  static void finishPod(KubernetesClient admin, Pod pod, int exitCode, String message) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Container c = pod.getSpec().getContainers().get(0);
    pod.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
    pod.getStatus().setStartTime(now);
    pod.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage())
        .withImageID("").withReady(false).withRestartCount(0).withStarted(false)
        .withNewState().withNewTerminated().withExitCode(exitCode).withReason(exitCode == 0 ? "Completed" : "Error")
        .withMessage(message).withStartedAt(now).withFinishedAt(now).endTerminated().endState().build()));
    admin.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).updateStatus();
  }

  /** The Job's pods that have not ended yet (the Job controller makes a new one per retry). */
  static List<Pod> waitingPods(KubernetesClient admin, Job job) {
    return admin.pods().inNamespace(job.getMetadata().getNamespace()).withLabel("job-name", job.getMetadata().getName())
        .list().getItems().stream()
        .filter(p -> p.getStatus() == null || !List.of("Succeeded", "Failed").contains(p.getStatus().getPhase())).toList();
  }
}
