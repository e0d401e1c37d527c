package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.LocalCluster;
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
 * What ClusterUserPathTest does on its cluster, as a user would at a terminal: kubectl with
 * waits that say what they waited for (and show pods, events and the plugin's log when they
 * fail), pods that use the disks, VM stand-ins. One per test class; no state but the cluster.
 */
final class ClusterSession {

  static final String NS = "remap-system";
  static final String VMS = "vms";
  static final Duration READY = Duration.ofMinutes(4);

  private final LocalCluster cluster;
  private final Path dir;

  ClusterSession(LocalCluster cluster, Path dir) {
    this.cluster = cluster;
    this.dir = dir;
  }

  /** Where pods reach a server on this host: the node's address (cluster.env), or kind.sh's. */
  String hostAddress() {
    String given = System.getenv("REMAP_E2E_HOST_ADDRESS");
    if (given != null) {
      return given;
    }
    try {
      return Files.readAllLines(dir.resolve("cluster.env")).stream().filter(l -> l.startsWith("NODE_IP="))
          .map(l -> l.substring("NODE_IP=".length())).findFirst().orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The chart values that put the node's folders where this cluster keeps its own (under its
   * folder, removed with it, and its kubelet's root); none for a cluster run elsewhere (kind).
   */
  List<String> nodeFolders(String dataDir) {
    return cluster.owned() ? List.of("--set", "node.kubeletDir=" + cluster.kubeletDir(),
        "--set", "node.dataDir=" + dir.resolve(dataDir)) : List.of();
  }

  /** Runs a VM stand-in on the claim and checks it saw the pattern and the file the WRITE script leaves. */
  void runVmSeeingTheData(String name, String claim, VmStandIn.VolumeMode mode, VmStandIn.Script script) {
    VmStandIn.Result result = runVm(name, claim, mode, script);
    assertThat(result.patternSha256()).isEqualTo(VmStandIn.expectedPatternSha256());
    assertThat(result.fileSha256()).isEqualTo(VmStandIn.expectedFileSha256());
  }

  VmStandIn.Result runVm(String name, String claim, VmStandIn.VolumeMode mode, VmStandIn.Script script) {
    Path spec = dir.resolve(name + ".yaml");
    write(spec, VmStandIn.podYaml(name, VMS, VmStandIn.image(version()), claim, mode, script));
    kubectl("apply", "-f", spec.toString());
    kubectlFor(READY, "wait", "-n", VMS, "--for=jsonpath={.status.phase}=Succeeded", "pod/" + name,
        "--timeout=" + READY.toSeconds() + "s");
    String log = kubectl("logs", "-n", VMS, name);
    kubectl("delete", "pod", "-n", VMS, name, "--wait=true");
    VmStandIn.Result result = VmStandIn.parseLog(log);
    assertThat(result.succeeded()).as("the guest's script on %s:%n%s", claim, log).isTrue();
    return result;
  }

  String nodePluginPod() {
    return kubectl("get", "pods", "-n", NS, "-l", "app.kubernetes.io/component=csi-node", "-o",
        "jsonpath={.items[0].metadata.name}");
  }

  void awaitNewNodePlugin(String old) throws InterruptedException {
    long deadline = System.nanoTime() + READY.toNanos();
    while (System.nanoTime() < deadline) {
      String pods = kubectl("get", "pods", "-n", NS, "-l", "app.kubernetes.io/component=csi-node", "-o",
          "jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[0].ready}{\"\\n\"}{end}");
      if (!pods.contains(old) && pods.lines().anyMatch(l -> l.endsWith(" true"))) {
        return;
      }
      Thread.sleep(1000);
    }
    throw new AssertionError("no new node plugin pod became Ready after " + old + "\n" + diagnose());
  }

  void awaitLog(String pod, String text) throws InterruptedException {
    long deadline = System.nanoTime() + READY.toNanos();
    String log = "";
    while (System.nanoTime() < deadline) {
      log = kubectl("logs", "-n", VMS, pod);
      if (log.contains(text) || log.contains("ERROR")) {
        break;
      }
      Thread.sleep(500);
    }
    assertThat(log).doesNotContain("ERROR").contains(text);
  }

  /** Runs a pod with both disks (block at /dev/xvda, filesystem at /data) to completion; its log. */
  String runPod(String name, String script) {
    return runPod(name, "data", "data-fs", script);
  }

  /** Runs a pod with a block claim at /dev/xvda and, unless null, a filesystem claim at /data; its log. */
  String runPod(String name, String blockClaim, String fsClaim, String script) {
    startPod(name, blockClaim, fsClaim, script);
    kubectlFor(READY, "wait", "-n", VMS, "--for=jsonpath={.status.phase}=Succeeded", "pod/" + name,
        "--timeout=" + READY.toSeconds() + "s");
    String log = kubectl("logs", "-n", VMS, name);
    kubectl("delete", "pod", "-n", VMS, name, "--wait=true");
    return log;
  }

  void startPod(String name, String blockClaim, String fsClaim, String script) {
    String indented = script.lines().map(l -> "      " + l).reduce((a, b) -> a + "\n" + b).orElse("");
    applyPod(name, remapImage(), """
            command: [/bin/sh, -c]
            args:
            - |
        %s
            volumeDevices: [{name: block, devicePath: /dev/xvda}]
        %s
        """.formatted(indented, fsClaim == null ? "" : "    volumeMounts: [{name: fs, mountPath: /data}]"),
        blockClaim, fsClaim);
  }

  /** A pod of one container (what it runs: container, indented as a container's fields) and its claims. */
  void applyPod(String name, String image, String container, String blockClaim, String fsClaim) {
    Path spec = dir.resolve(name + ".yaml");
    write(spec, """
        apiVersion: v1
        kind: Pod
        metadata: {name: %s, namespace: %s}
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: %s
            imagePullPolicy: Never
        %s
          volumes:
          - {name: block, persistentVolumeClaim: {claimName: %s}}
        %s
        """.formatted(name, VMS, image, container.stripTrailing(), blockClaim,
        fsClaim == null ? "" : "  - {name: fs, persistentVolumeClaim: {claimName: " + fsClaim + "}}"));
    kubectl("apply", "-f", spec.toString());
  }

  String remapImage() {
    return "localhost/remap:" + version();
  }

  /** The images' tag: the chart's appVersion, which is the project's version. */
  String version() {
    return kubectl("get", "deploy", "-n", NS, "remap-operator",
        "-o", "jsonpath={.spec.template.spec.containers[0].image}").replaceAll(".*:", "");
  }

  void awaitPodsReady(String namespace) {
    // Pods of a DaemonSet and Deployments appear a moment after install returns.
    kubectlFor(READY, "wait", "-n", namespace, "--for=condition=Available", "deployment", "--all",
        "--timeout=" + READY.toSeconds() + "s");
    // The keeper's DaemonSet updates on delete only, which `rollout status` does not follow.
    for (String daemonSet : List.of("remap-csi-node", "remap-keeper")) {
      awaitOutput("daemonset/" + daemonSet + " Ready on every node", "1 1", "get", "daemonset", "-n", namespace,
          daemonSet, "-o", "jsonpath={.status.desiredNumberScheduled} {.status.numberReady}");
    }
  }

  String kubectl(String... args) {
    return kubectlFor(Duration.ofMinutes(2), args);
  }

  String kubectlFor(Duration timeout, String... args) {
    Proc.Result result = cluster.kubectl(timeout.plusSeconds(30), args);
    if (result.exitCode() != 0) {
      throw new AssertionError("kubectl " + String.join(" ", args) + " failed:\n" + result.output() + "\n" + diagnose());
    }
    return result.output().strip();
  }

  /** What a user would look at when something is not Ready: pods, events, the plugin's log. */
  String diagnose() {
    List<String> out = new ArrayList<>();
    for (String[] args : List.of(
        new String[] {"get", "pods", "-A", "-o", "wide"},
        new String[] {"get", "virtualdisks,pvc", "-A"},
        new String[] {"get", "events", "-A", "--sort-by=.lastTimestamp"},
        new String[] {"logs", "-n", NS, "daemonset/remap-csi-node", "--tail=40"},
        new String[] {"logs", "-n", NS, "deploy/remap-csi-controller", "-c", "remap-csi", "--tail=40"})) {
      Proc.Result r = cluster.kubectl(args);
      out.add("$ kubectl " + String.join(" ", args) + "\n" + tail(r.output(), 6000));
    }
    return String.join("\n", out);
  }

  /** Polls a kubectl query until it prints exactly what is expected. */
  void awaitOutput(String what, String expected, String... query) {
    long deadline = System.nanoTime() + READY.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      Proc.Result r = cluster.kubectl(query);
      last = r.output().strip();
      if (r.exitCode() == 0 && last.equals(expected)) {
        return;
      }
      pause(500);
    }
    throw new AssertionError(what + ": waited " + READY.toSeconds() + " s for '" + expected + "', last saw '" + last
        + "'\n" + diagnose());
  }

  /**
   * KubeVirt's own CRDs (e2e/tools/sidecars.sh keeps them from its release, as OperatorStack uses
   * them), so that VirtualMachines are served and validated as in a cluster with KubeVirt: this
   * cluster runs no KubeVirt, so a VirtualMachine is an object the operator patches and a VM
   * stand-in pod plays the VM.
   */
  void installKubeVirtCrds() {
    kubectl("apply", "--server-side", "--force-conflicts", "-f", kubeVirtCrds().toString());
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/virtualmachines.kubevirt.io",
        "crd/virtualmachineinstances.kubevirt.io");
  }

  /**
   * A stopped VirtualMachine (96 MiB, a root containerDisk) as YAML: the object the operator
   * patches; a VM stand-in pod plays the running VM.
   */
  static String stoppedVmYaml(String namespace, String name) {
    return """
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: %2$s, namespace: %1$s}
        spec:
          runStrategy: Halted
          template:
            spec:
              domain: {devices: {disks: [{name: root, disk: {bus: virtio}}]}, resources: {requests: {memory: 96Mi}}}
              volumes: [{name: root, containerDisk: {image: example/root}}]
        """.formatted(namespace, name);
  }

  /** Leaves the cluster as the other steps expect it: no KubeVirt API (a kind cluster as it was). */
  void removeKubeVirtCrds() {
    // The API server deletes each CRD's objects first; on this 2-core node that once took over 90 s.
    kubectlFor(Duration.ofMinutes(5), "delete", "-f", kubeVirtCrds().toString(), "--wait=true", "--timeout=240s");
  }

  private static Path kubeVirtCrds() {
    return RemapPaths.cache().resolve("kubevirt-crds/kubevirt.yaml");
  }

  private static String tail(String s, int n) {
    return s.length() <= n ? s : s.substring(s.length() - n);
  }

  /** Between two looks of a wait: an interrupt ends the test. */
  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
