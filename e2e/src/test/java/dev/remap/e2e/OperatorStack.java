package dev.remap.e2e;

import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.Ports;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything between `kubectl apply` and a volume in the store, as real processes on one
 * control plane: the Remap CSI controller (`./remap csi --mode controller`) on a Unix socket, the
 * CSI external-provisioner and external-snapshotter sidecars and the snapshot controller built
 * from their Go modules (e2e/tools/sidecars.sh), KubeVirt's CRDs, and the packaged operator (as
 * its ServiceAccount, with the RBAC of operator/rbac.yaml). Closing it stops them in reverse
 * order.
 */
final class OperatorStack implements AutoCloseable {

  static final String DRIVER = "csi.remap.dev";
  final Path dir;
  final Path socket;
  final Path store;
  private final List<BackgroundProcess> processes = new ArrayList<>();

  private OperatorStack(Path dir) {
    this.dir = dir;
    this.socket = dir.resolve("csi.sock");
    this.store = dir.resolve("store");
  }

  static OperatorStack start(ControlPlane cp, Path dir) {
    // Builds the sidecars on a cold cache (minutes), a no-op when warm.
    Proc.run(Duration.ofMinutes(40), RemapPaths.script("e2e/tools/sidecars.sh").toString()).requireSuccess();
    Path operatorApp = RemapPaths.root().resolve("operator/target/quarkus-app/quarkus-run.jar");
    if (!Files.isRegularFile(operatorApp)) {
      throw new IllegalStateException(operatorApp + " is missing: build the operator first (mvn -pl operator -am package)");
    }
    OperatorStack stack = new OperatorStack(dir);
    try {
      stack.install(cp);
      String kubeconfig = "--kubeconfig=" + cp.kubeconfig();
      stack.run(RemapPaths.root().resolve("remap").toString(), "csi", "--mode", "controller",
          "--endpoint", "unix://" + stack.socket, "--node-id", "node-a", "--store", "file://" + stack.store,
          "--kubeconfig", cp.kubeconfig().toString(),
          "--journal", dir.resolve("journal").toString(), "--state-dir", dir.resolve("state").toString())
          .awaitSocket(stack.socket, Duration.ofSeconds(60));
      stack.run(RemapPaths.cachedTool("snapshot-controller").toString(), kubeconfig, "--leader-election=false");
      // --extra-create-metadata: CreateVolume learns the PVC's name and namespace. Topology off:
      // with no kubelet there are no CSINode objects to take topology keys from, and Remap's
      // volumes live in a store that every node reaches.
      stack.run(RemapPaths.cachedTool("csi-provisioner").toString(), kubeconfig, "--csi-address=" + stack.socket,
          "--leader-election=false", "--extra-create-metadata", "--timeout=60s", "--feature-gates=Topology=false");
      stack.run(RemapPaths.cachedTool("csi-snapshotter").toString(), kubeconfig, "--csi-address=" + stack.socket,
          "--leader-election=false", "--timeout=60s");
      int port = Ports.free();
      String java = ProcessHandle.current().info().command().orElse("java");
      // As its ServiceAccount with operator/rbac.yaml, so every flow here also proves the RBAC.
      Path operatorKubeconfig = cp.serviceAccountKubeconfig("remap-system", "remap-operator");
      stack.run("env", "KUBECONFIG=" + operatorKubeconfig, "REMAP_OPERATOR_HTTP_PORT=" + port,
          "REMAP_OPERATOR_HTTP_HOST=127.0.0.1", "POD_NAMESPACE=remap-system", "REMAP_OPERATOR_IDENTITY=e2e",
          "REMAP_STORE=file://" + stack.store,
          java, "-Xmx256m", "-jar", operatorApp.toString());
      return stack;
    } catch (RuntimeException | Error e) {
      stack.close();
      throw e;
    }
  }

  private void install(ControlPlane cp) {
    Path root = RemapPaths.root();
    cp.kubectl("apply", "-f", RemapPaths.cache().resolve("snapshot-crds").toString()).requireSuccess();
    cp.kubectl("apply", "--server-side", "--force-conflicts", "-f", root.resolve("crds").toString()).requireSuccess();
    // KubeVirt's own CRDs (sidecars.sh prints them from its release): VMs are validated as in a
    // cluster with KubeVirt, and virt-api finds what it watches. Too big for client-side apply.
    cp.kubectl("apply", "--server-side", "--force-conflicts", "-f",
        RemapPaths.cache().resolve("kubevirt-crds/kubevirt.yaml").toString()).requireSuccess();
    cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/volumesnapshots.snapshot.storage.k8s.io",
        "crd/virtualdisks.remap.dev", "crd/virtualmachines.kubevirt.io", "crd/kubevirts.kubevirt.io").requireSuccess();
    cp.ensureNamespace("remap-system");
    cp.kubectl("apply", "-f", root.resolve("operator/rbac.yaml").toString()).requireSuccess();
    apply(cp, "classes", """
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: remap}
        provisioner: %s
        reclaimPolicy: Delete
        volumeBindingMode: Immediate
        allowVolumeExpansion: true
        ---
        apiVersion: snapshot.storage.k8s.io/v1
        kind: VolumeSnapshotClass
        metadata:
          name: remap
          annotations: {snapshot.storage.kubernetes.io/is-default-class: "true"}
        driver: %s
        deletionPolicy: Delete
        """.formatted(DRIVER, DRIVER));
  }

  Path apply(ControlPlane cp, String name, String yaml) {
    try {
      Path file = Files.writeString(dir.resolve(name + ".yaml"), yaml);
      cp.kubectl("apply", "-f", file.toString()).requireSuccess();
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The volumes in the store, as `./remap volume list` shows them. */
  String storeVolumes() {
    return Proc.run(Duration.ofMinutes(1), RemapPaths.root().resolve("remap").toString(), "volume", "list",
        "--store", "file://" + store).requireSuccess().output();
  }

  /** The last lines of every process's output, for failure messages. */
  String logs() {
    StringBuilder b = new StringBuilder();
    for (BackgroundProcess p : processes) {
      String out = p.output();
      b.append("----- ").append(p.pid()).append(" -----\n")
          .append(out.length() > 4000 ? out.substring(out.length() - 4000) : out).append('\n');
    }
    return b.toString();
  }

  private BackgroundProcess run(String... command) {
    BackgroundProcess p = BackgroundProcess.start(command);
    processes.add(p);
    return p;
  }

  @Override
  public void close() {
    for (int i = processes.size() - 1; i >= 0; i--) {
      processes.get(i).close();
    }
  }
}
