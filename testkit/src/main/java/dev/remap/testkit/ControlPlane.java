package dev.remap.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A running local control plane (etcd + kube-apiserver + kube-controller-manager on 127.0.0.1)
 * started by e2e/tools/controlplane.sh. Obtain one through {@link ControlPlaneExtension}.
 */
public final class ControlPlane implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
  private final Path dir;

  private ControlPlane(Path dir) {
    this.dir = dir;
  }

  /** Starts a control plane whose certificates, data and logs live in dir. */
  public static ControlPlane start(Path dir) {
    Proc.run(START_TIMEOUT, RemapPaths.script("e2e/tools/controlplane.sh").toString(), "start", dir.toString())
        .requireSuccess();
    return new ControlPlane(dir);
  }

  public Path dir() {
    return dir;
  }

  public Path kubeconfig() {
    return dir.resolve("kubeconfig");
  }

  /**
   * A kubeconfig (a file in this control plane's dir) that authenticates as the ServiceAccount
   * namespace/name with a TokenRequest token, so a process run with it gets exactly the RBAC
   * granted to that account.
   */
  public Path serviceAccountKubeconfig(String namespace, String name) {
    String token = kubectl("create", "token", name, "-n", namespace, "--duration=6h").requireSuccess().output().trim();
    String server = kubectl("config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.server}")
        .requireSuccess().output().trim();
    String ca = kubectl("config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}")
        .requireSuccess().output().trim();
    Path file = dir.resolve("sa-" + namespace + "-" + name + ".kubeconfig");
    try {
      Files.writeString(file, """
          apiVersion: v1
          kind: Config
          clusters:
          - name: remap
            cluster: {server: "%s", certificate-authority-data: "%s"}
          users:
          - name: %s
            user: {token: "%s"}
          contexts:
          - name: remap
            context: {cluster: remap, user: %s, namespace: %s}
          current-context: remap
          """.formatted(server, ca, name, token, name, namespace));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** Creates the namespace unless it exists. */
  public void ensureNamespace(String name) {
    if (kubectl("get", "namespace", name).exitCode() != 0) {
      kubectl("create", "namespace", name).requireSuccess();
    }
  }

  /** Runs the kubectl built with the control plane against it. */
  public Proc.Result kubectl(String... args) {
    List<String> command = new ArrayList<>();
    command.add(RemapPaths.cachedTool("kubectl").toString());
    command.add("--kubeconfig=" + kubeconfig());
    command.addAll(List.of(args));
    return Proc.run(Duration.ofMinutes(2), Map.of(), command);
  }

  @Override
  public void close() {
    Proc.run(Duration.ofMinutes(1), RemapPaths.script("e2e/tools/controlplane.sh").toString(), "stop", dir.toString())
        .requireSuccess();
    // Stopped cleanly: nothing in dir is needed any more (on a failed stop it stays for the logs).
    Proc.run(Duration.ofMinutes(1), "rm", "-rf", dir.toString()).requireSuccess();
  }
}
