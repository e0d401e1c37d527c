package dev.remap.operator.it;

import static org.awaitility.Awaitility.await;

import dev.remap.engine.share.ShareStatus;
import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.Ports;
import dev.remap.testkit.RemapPaths;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Plays a share agent's pod where no kubelet runs: starts the real `./remap share-agent` with the
 * Deployment's own container arguments and environment (each secretKeyRef resolved from its
 * Secret, as the kubelet does), changing only what must differ on this machine (--scratch and
 * --journal to temporary folders, --listen to 127.0.0.1 and a port of its own, so that several
 * agents run side by side), and writes a Pod with the Deployment's template labels, a container
 * port named http and, through the status subresource, phase Running and podIP 127.0.0.1: what
 * the operator looks for to reach the agent.
 */
final class ShareAgentStandIn implements AutoCloseable {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final KubernetesClient admin;
  private final Pod pod;
  private final BackgroundProcess agent;
  private final int port;

  private ShareAgentStandIn(KubernetesClient admin, Pod pod, BackgroundProcess agent, int port) {
    this.admin = admin;
    this.pod = pod;
    this.agent = agent;
    this.port = port;
  }

  static ShareAgentStandIn start(KubernetesClient admin, Deployment deployment, Path dir) {
    String ns = deployment.getMetadata().getNamespace();
    Container c = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : c.getEnv()) {
      SecretKeySelector ref = e.getValueFrom().getSecretKeyRef();
      // The operator copies the Secret just after it makes the Deployment; the kubelet, too, waits for it.
      Secret secret = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> admin.secrets().inNamespace(ns).withName(ref.getName()).get(), x -> x != null);
      env.put(e.getName(), new String(Base64.getDecoder().decode(secret.getData().get(ref.getKey())),
          StandardCharsets.UTF_8));
    }
    // Small heaps: several agents, the operator, s3proxy and the control plane share the machine.
    env.put("REMAP_JAVA_OPTS", "-Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
    int port = Ports.free();
    try {
      Path own = Files.createTempDirectory(dir, deployment.getMetadata().getName() + "-");
      List<String> command = new ArrayList<>(List.of(RemapPaths.root().resolve("remap").toString()));
      command.addAll(replaced(c.getArgs(), Map.of("--scratch", own.resolve("scratch").toString(),
          "--journal", own.resolve("journal").toString(), "--listen", "127.0.0.1:" + port)));
      BackgroundProcess agent = BackgroundProcess.start(env, command.toArray(String[]::new))
          .awaitReady(Duration.ofSeconds(60), () -> listening(port));
      return new ShareAgentStandIn(admin, runningPod(admin, deployment, c, port), agent, port);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** args with the value after each flag of values replaced; every such flag must be there. */
  static List<String> replaced(List<String> args, Map<String, String> values) {
    List<String> out = new ArrayList<>(args);
    for (Map.Entry<String, String> v : values.entrySet()) {
      int at = out.indexOf(v.getKey());
      if (at < 0 || at + 1 >= out.size()) {
        throw new AssertionError("the agent's arguments have no " + v.getKey() + ": " + args);
      }
      out.set(at + 1, v.getValue());
    }
    return out;
  }

  private static Pod runningPod(KubernetesClient admin, Deployment deployment, Container c, int port) {
    String ns = deployment.getMetadata().getNamespace();
    Pod pod = new PodBuilder()
        .withNewMetadata().withName(deployment.getMetadata().getName() + "-standin").withNamespace(ns)
        .withLabels(deployment.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withNewSpec().withAutomountServiceAccountToken(false)
        .addNewContainer().withName(c.getName()).withImage(c.getImage())
        .addNewPort().withName("http").withContainerPort(port).endPort().endContainer()
        .endSpec().build();
    // The namespace's default ServiceAccount may not be made yet: the pod is refused until it is.
    Pod created = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> admin.pods().inNamespace(ns).resource(pod).create(), p -> p != null);
    created.setStatus(new PodStatusBuilder().withPhase("Running").withPodIP("127.0.0.1")
        .withPodIPs(new PodIPBuilder().withIp("127.0.0.1").build()).build());
    return admin.pods().inNamespace(ns).resource(created).updateStatus();
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The agent's own /status, straight from it (what the operator reads). */
  ShareStatus status() {
    try {
      HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() != 200) {
        throw new AssertionError("the agent answered " + r.statusCode() + ": " + new String(r.body(),
            StandardCharsets.UTF_8));
      }
      return ShareStatus.decode(r.body(), "the agent's status");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  boolean isAlive() {
    return agent.isAlive();
  }

  String output() {
    return agent.output();
  }

  @Override
  public void close() {
    admin.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).delete();
    agent.close();
  }
}
