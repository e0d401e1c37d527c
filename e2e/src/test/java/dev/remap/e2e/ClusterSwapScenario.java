package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.LocalCluster;
import dev.remap.testkit.Proc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What ClusterUserPathTest's VmMemorySwap step does on its cluster (issue 16), as a user would:
 * KubeVirt's CRDs (this cluster runs no KubeVirt: a VirtualMachine is an object the operator
 * patches, and a {@link SwapStandIn} pod plays the VM), VmMemorySwaps applied with kubectl, their
 * conditions and objects read with kubectl, and the node plugin's /metrics read through the API
 * server's proxy to its pod (the way `kubectl get --raw` reaches any pod, here and on kind).
 */
final class ClusterSwapScenario {

  static final String NS = ClusterSession.NS;
  static final String VMS = ClusterSession.VMS;
  /** The VM, and its swap (so the PVC is {@code swapper-swap} and the node's disk {@code swap/vms/swapper}). */
  static final String VM = "swapper";
  static final String SWAP = "swapper";
  static final String LABEL = "remap-swap";
  static final long MEMORY_LIMIT = 64L << 20;
  /** A swap for a VM that is not there, and one whose memoryLimit is above the chart's pool (1Gi). */
  static final String GHOST = "ghost-swap";
  static final String TOO_BIG = "too-big";
  private static final Duration GUEST_WAIT = Duration.ofSeconds(SwapStandIn.GUEST_TIMEOUT_SECONDS + 120L);
  private static final Pattern METRIC = Pattern.compile("(?m)^remap_swap_(\\w+)(?:\\{([^}]*)})? (\\S+)\\r?$");

  private final LocalCluster cluster;
  private final ClusterSession k;
  private final Path dir;

  ClusterSwapScenario(LocalCluster cluster, ClusterSession k, Path dir) {
    this.cluster = cluster;
    this.k = k;
    this.dir = dir;
  }

  /** The node's swap disk name (the CSI volume handle) of a swap in the VMs' namespace. */
  static String disk(String swap) {
    return "swap/" + VMS + "/" + swap;
  }

  static String pvc(String swap) {
    return swap + "-swap";
  }

  /**
   * A stopped VM and three swaps: one for it (spill at the default location, which the chart
   * mounts from the node's disk), one for a VM that does not exist, one above the pool's cap.
   */
  void applyVmAndSwaps() {
    Path spec = dir.resolve("swaps.yaml");
    ClusterSession.write(spec, ClusterSession.stoppedVmYaml(VMS, VM) + """
        ---
        apiVersion: remap.dev/v1alpha1
        kind: VmMemorySwap
        metadata: {name: %3$s, namespace: %1$s}
        spec:
          vmName: %2$s
          size: 256Mi
          memoryLimit: 64Mi
          spill: {size: 256Mi}
          label: %4$s
        ---
        apiVersion: remap.dev/v1alpha1
        kind: VmMemorySwap
        metadata: {name: %5$s, namespace: %1$s}
        spec: {vmName: vm-that-is-not-there, size: 64Mi, memoryLimit: 64Mi}
        ---
        apiVersion: remap.dev/v1alpha1
        kind: VmMemorySwap
        metadata: {name: %6$s, namespace: %1$s}
        spec: {vmName: %2$s, size: 2Gi, memoryLimit: 2Gi}
        """.formatted(VMS, VM, SWAP, LABEL, GHOST, TOO_BIG));
    k.kubectl("apply", "-f", spec.toString());
  }

  /**
   * The swap is Ready (Attached) and not live-migratable; its PV (handle swap/NS/NAME) and PVC
   * are bound to each other; the VM's spec has the PVC as a disk, and no other swap's.
   *
   * @return the PersistentVolume's name
   */
  String assertAttachedThroughItsOwnBoundVolume() {
    String pvc = pvc(SWAP);
    assertThat(awaitReady(SWAP, "True", "Attached")).contains(pvc, VM);
    assertThat(condition(SWAP, "LiveMigratable", "status") + " " + condition(SWAP, "LiveMigratable", "reason"))
        .isEqualTo("False NodeLocalSwap");
    String pv = k.kubectl("get", "vmmemoryswap", "-n", VMS, SWAP, "-o", "jsonpath={.status.volumeName}");
    assertThat(k.kubectl("get", "pv", pv, "-o", "jsonpath={.spec.csi.volumeHandle} {.status.phase} {.spec.claimRef.name}"))
        .isEqualTo(disk(SWAP) + " Bound " + pvc);
    assertThat(k.kubectl("get", "pvc", "-n", VMS, pvc, "-o", "jsonpath={.status.phase} {.spec.volumeName}"))
        .isEqualTo("Bound " + pv);
    // Only this swap's disk: the one above the pool's cap was attached to nothing.
    assertThat(vm("{.spec.template.spec.domain.devices.disks[*].name}")).isEqualTo("root " + pvc);
    assertThat(vm("{.spec.template.spec.volumes[?(@.name==\"" + pvc + "\")].persistentVolumeClaim.claimName}"))
        .isEqualTo(pvc);
    return pv;
  }

  /** The swap of a missing VM names it; the one above the pool's cap names both and has no PVC. */
  void assertBadInputIsNamed() {
    assertThat(awaitReady(GHOST, "False", "VmNotFound")).contains("vm-that-is-not-there");
    assertThat(awaitReady(TOO_BIG, "False", "PoolExhausted")).contains("spec.memoryLimit 2Gi", "cap 1Gi");
    assertThat(k.kubectl("get", "pvc", "-n", VMS, pvc(TOO_BIG), "--ignore-not-found", "-o=name")).isEmpty();
  }

  /** Waits until the swap's Ready condition has that status and reason; its message. */
  String awaitReady(String swap, String status, String reason) {
    k.awaitOutput("vmmemoryswap/" + swap + "'s Ready condition", status + " " + reason, "get", "vmmemoryswap", "-n",
        VMS, swap, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status} "
            + "{.status.conditions[?(@.type==\"Ready\")].reason}");
    return condition(swap, "Ready", "message");
  }

  /** A field (status, reason, message) of one of the swap's conditions. */
  String condition(String swap, String type, String field) {
    return k.kubectl("get", "vmmemoryswap", "-n", VMS, swap, "-o",
        "jsonpath={.status.conditions[?(@.type==\"" + type + "\")]." + field + "}");
  }

  /** A jsonpath of the VM. */
  String vm(String jsonpath) {
    return k.kubectl("get", "virtualmachine", "-n", VMS, VM, "-o", "jsonpath=" + jsonpath);
  }

  /** What the guest and the node said: the stand-in's result and the node's swap meters while the disk was staged. */
  record Run(SwapStandIn.Result guest, NodeSwap node, String log) {}

  /**
   * Runs the stand-in on the swap's PVC; when the guest has swapped (its VMSTAT line), and while
   * it holds the disk, scrapes the node; then waits for the pod to succeed and deletes it.
   */
  Run runGuestAndScrapeTheNode(String name) {
    Path spec = dir.resolve(name + ".yaml");
    ClusterSession.write(spec, SwapStandIn.podYaml(name, VMS, VmStandIn.image(k.version()), pvc(SWAP), LABEL));
    k.kubectl("apply", "-f", spec.toString());
    String log = awaitLog(name);
    assertThat(SwapStandIn.swapped(log)).as("the guest swapped and holds the disk; its log:%n%s",
        SwapStandIn.tail(log)).isTrue();
    NodeSwap node = scrapeNode();
    k.kubectlFor(Duration.ofMinutes(2), "wait", "-n", VMS, "--for=jsonpath={.status.phase}=Succeeded", "pod/" + name,
        "--timeout=90s");
    log = k.kubectl("logs", "-n", VMS, name);
    k.kubectl("delete", "pod", "-n", VMS, name, "--wait=true");
    return new Run(SwapStandIn.parseLog(log), node, log);
  }

  /** Polls the pod's log until the guest swapped or the entrypoint finished. */
  private String awaitLog(String pod) {
    long deadline = System.nanoTime() + GUEST_WAIT.toNanos();
    String log = "";
    while (System.nanoTime() < deadline) {
      // Fails while the container is created: not yet a log to read.
      Proc.Result r = cluster.kubectl("logs", "-n", VMS, pod);
      if (r.exitCode() == 0) {
        log = r.output();
        if (SwapStandIn.swapped(log) || SwapStandIn.finished(log)) {
          return log;
        }
      }
      ClusterSession.pause(1000);
    }
    throw new AssertionError("the swap stand-in " + pod + " did not swap within " + GUEST_WAIT.toSeconds() + " s; log:\n"
        + SwapStandIn.tail(log) + "\n" + k.diagnose());
  }

  /**
   * The node plugin's swap meters: the pool's ({@code pool_cap_bytes}, ...) and each disk's by
   * name without the {@code remap_swap_} prefix.
   *
   * @param text the whole /metrics page, for messages
   */
  record NodeSwap(Map<String, Long> pool, Map<String, Map<String, Long>> disks, String text) {

    /** The disk's meters, or an empty map when the node has no such disk. */
    Map<String, Long> disk(String name) {
      return disks.getOrDefault(name, Map.of());
    }
  }

  /** Reads the node plugin's /metrics through the API server's proxy to its pod. */
  NodeSwap scrapeNode() {
    String pod = k.nodePluginPod();
    String port = k.kubectl("get", "pod", "-n", NS, pod, "-o",
        "jsonpath={.spec.containers[0].ports[?(@.name==\"http\")].containerPort}");
    String text = k.kubectl("get", "--raw", "/api/v1/namespaces/" + NS + "/pods/" + pod + ":" + port + "/proxy/metrics");
    Map<String, Long> pool = new HashMap<>();
    Map<String, Map<String, Long>> disks = new HashMap<>();
    Matcher m = METRIC.matcher(text);
    Pattern diskTag = Pattern.compile("disk=\"([^\"]*)\"");
    while (m.find()) {
      long value = (long) Double.parseDouble(m.group(3));
      Matcher tag = diskTag.matcher(m.group(2) == null ? "" : m.group(2));
      if (tag.find()) {
        disks.computeIfAbsent(tag.group(1), d -> new HashMap<>()).put(m.group(1), value);
      } else {
        pool.put(m.group(1), value);
      }
    }
    assertThat(pool).as("the node's swap pool meters in its /metrics:%n%s", text)
        .containsKeys("pool_cap_bytes", "pool_reserved_bytes");
    return new NodeSwap(pool, disks, text);
  }

  /** Waits until the node no longer has the disk (the kubelet unstaged the volume when its last pod went). */
  NodeSwap awaitDiskGone(String disk) {
    long deadline = System.nanoTime() + ClusterSession.READY.toNanos();
    NodeSwap node = scrapeNode();
    while (!node.disk(disk).isEmpty() && System.nanoTime() < deadline) {
      ClusterSession.pause(1000);
      node = scrapeNode();
    }
    assertThat(node.disk(disk)).as("the node's meters of %s after its VM stopped:%n%s", disk, node.text()).isEmpty();
    return node;
  }

  /**
   * Deletes every VmMemorySwap of the namespace and waits until they, their PVCs and the given
   * PersistentVolumes (their status.volumeName) are gone.
   */
  void deleteSwaps(String... persistentVolumes) {
    k.kubectl("delete", "vmmemoryswap", "-n", VMS, "--all", "--wait=true", "--timeout=120s");
    k.awaitOutput("the swaps' PVCs deleted", "", "get", "pvc", "-n", VMS, "-l", "remap.dev/swap", "-o",
        "jsonpath={.items[*].metadata.name}");
    String[] query = new String[persistentVolumes.length + 4];
    query[0] = "get";
    query[1] = "pv";
    System.arraycopy(persistentVolumes, 0, query, 2, persistentVolumes.length);
    query[query.length - 2] = "--ignore-not-found";
    query[query.length - 1] = "-o=name";
    k.awaitOutput("the swaps' PersistentVolumes deleted", "", query);
  }

  void deleteVm() {
    k.kubectl("delete", "virtualmachine", "-n", VMS, VM, "--wait=true");
  }
}
