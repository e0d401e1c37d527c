package dev.remap.e2e;

import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
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

/**
 * The part of an operator transfer Job's pod (spec.export, spec.source.import) on a control
 * plane without a kubelet: runs the real `./remap` with the Job's own arguments and environment
 * (secretKeyRefs resolved from their Secrets, as a kubelet does), then writes the pod's end into
 * its status as a kubelet would, with the termination message the command wrote; the real Job
 * controller of kube-controller-manager then completes the Job and the operator takes it from
 * there. The full path with a kubelet is e2e/tools/cluster.sh's.
 */
final class TransferJobPart {

  static final String SYSTEM = "remap-system";

  private TransferJobPart() {}

  /** Runs the Job's command to its end and ends its pod; returns the command's stdout. */
  static String play(ControlPlane cp, String jobName, Path dir) {
    Job job = Serialization.unmarshal(cp.kubectl("get", "job", jobName, "-n", SYSTEM, "-o", "json").requireSuccess().output(),
        Job.class);
    Container c = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
      SecretKeySelector ref = e.getValueFrom().getSecretKeyRef();
      String value = cp.kubectl("get", "secret", ref.getName(), "-n", SYSTEM, "-o", "jsonpath={.data." + ref.getKey() + "}")
          .requireSuccess().output().trim();
      env.put(e.getName(), new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8));
    }
    try {
      Path log = Files.writeString(Files.createTempFile(dir, "termination-log", ""), "");
      List<String> command = new ArrayList<>(List.of(RemapPaths.root().resolve("remap").toString()));
      command.addAll(c.getArgs());
      command.add("--termination-log=" + log);
      Proc.Result r = Proc.run(Duration.ofMinutes(5), env, command);
      String message = Files.readString(log);
      finishPod(cp, jobName, c.getName(), c.getImage(), r.exitCode(), message);
      if (r.exitCode() != 0) {
        throw new AssertionError("the Job's command failed: " + message + "\n" + r.output());
      }
      return r.output();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Ends the Job's pod (made by the Job controller) as a kubelet would report it. */
  private static void finishPod(ControlPlane cp, String jobName, String container, String image, int exitCode,
      String message) {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(1));
    String pod = "";
    while (pod.isBlank()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("the Job controller made no pod for Job " + jobName);
      }
      pod = cp.kubectl("get", "pods", "-n", SYSTEM, "-l", "job-name=" + jobName, "-o", "jsonpath={.items[0].metadata.name}")
          .output().trim();
    }
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Map<String, Object> terminated = Map.of("exitCode", exitCode, "reason", exitCode == 0 ? "Completed" : "Error",
        "message", message, "startedAt", now, "finishedAt", now);
    Map<String, Object> status = Map.of("status", Map.of("phase", exitCode == 0 ? "Succeeded" : "Failed", "startTime", now,
        "containerStatuses", List.of(Map.of("name", container, "image", image, "imageID", "", "ready", false,
            "restartCount", 0, "state", Map.of("terminated", terminated)))));
    cp.kubectl("patch", "pod", pod, "-n", SYSTEM, "--subresource=status", "--type=merge", "-p",
        Serialization.asJson(status)).requireSuccess();
  }
}
