package dev.remap.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.remap.api.swap.VmMemorySwap;
import dev.remap.operator.status.Conditions;
import dev.remap.operator.swap.NodeMetricsServer;
import dev.remap.operator.swap.SwapFigures;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The packaged operator, as its ServiceAccount, turning VmMemorySwaps into issue 16's static
 * PersistentVolume and PVC on a real kube-apiserver and kube-controller-manager (which binds the
 * two and garbage-collects the PVC): attached to a stopped VM, a VM that does not exist, a
 * memoryLimit above the pool cap, two swaps on one node that together exceed it, the counters of
 * the node that runs the VM, a node that cannot stage the disk, and deletion. The operator's pool cap
 * is 3Gi here (REMAP_SWAP_POOL_SIZE), and it looks at settled swaps every 3 s instead of every 30 s
 * (REMAP_SWAP_REFRESH), since counters and the kubelet's events send it nothing.
 */
@ExtendWith(ControlPlaneExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VmMemorySwapIT {

  static final Duration WAIT = Duration.ofSeconds(90);
  static final ResourceDefinitionContext VMI = new ResourceDefinitionContext.Builder()
      .withGroup("kubevirt.io").withVersion("v1").withKind("VirtualMachineInstance")
      .withPlural("virtualmachineinstances").withNamespaced(true).build();
  /** The operator's namespace (POD_NAMESPACE of OperatorProcess), where the chart runs the node plugin. */
  static final String PLUGIN_NS = "remap-system";
  private TestCluster cluster;
  private OperatorProcess operator;

  @BeforeAll
  void startOperator(ControlPlane cp) throws IOException {
    cluster = TestCluster.of(cp);
    // A stand-in for KubeVirt's VMI CRD: only status.nodeName is read, so any shape is accepted.
    Path crd = Files.createTempFile("kubevirt-vmi-crd", ".yaml");
    crd.toFile().deleteOnExit();
    Files.writeString(crd, """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: virtualmachineinstances.kubevirt.io}
        spec:
          group: kubevirt.io
          scope: Namespaced
          names: {kind: VirtualMachineInstance, plural: virtualmachineinstances, singular: virtualmachineinstance}
          versions:
          - name: v1
            served: true
            storage: true
            schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
        """);
    cp.kubectl("apply", "-f", crd.toString()).requireSuccess();
    cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/virtualmachineinstances.kubevirt.io")
        .requireSuccess();
    operator = OperatorProcess.start(cluster.operatorKubeconfig, "it-swap", Map.of("REMAP_SWAP_POOL_SIZE", "3Gi",
        "REMAP_SWAP_REFRESH", "3s"))
        .awaitReady(Duration.ofMinutes(2));
  }

  @AfterAll
  void stopOperator() {
    if (operator != null) {
      operator.close();
    }
  }

  private VmMemorySwap create(String ns, String name, String specYaml) {
    return cluster.admin.resources(VmMemorySwap.class).inNamespace(ns).resource(Serialization.unmarshal("""
        apiVersion: remap.dev/v1alpha1
        kind: VmMemorySwap
        metadata: {name: %s, namespace: %s}
        spec: %s
        """.formatted(name, ns, specYaml), VmMemorySwap.class)).create();
  }

  private VmMemorySwap get(String ns, String name) {
    return cluster.admin.resources(VmMemorySwap.class).inNamespace(ns).withName(name).get();
  }

  static Condition condition(VmMemorySwap s, String type) {
    return s == null || s.getStatus() == null ? null : Conditions.find(s.getStatus().conditions, type).orElse(null);
  }

  private VmMemorySwap awaitReady(String ns, String name, String status, String reason) {
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      Condition c = condition(get(ns, name), "Ready");
      assertThat(c).as("Ready of %s/%s", ns, name).isNotNull();
      assertThat(c.getReason()).as("Ready: %s", c.getMessage()).isEqualTo(reason);
      assertThat(c.getStatus()).isEqualTo(status);
    });
    return get(ns, name);
  }

  private void assertNotLiveMigratable(VmMemorySwap swap) {
    Condition c = condition(swap, "LiveMigratable");
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("NodeLocalSwap");
    assertThat(c.getMessage()).contains("cannot be live-migrated", "ReadWriteOnce");
  }

  @Test
  void aStoppedVmGetsTheSwapDiskAndDeletingTheSwapTakesEverythingAway() {
    String ns = "it-swap-flow";
    cluster.namespace(ns);
    cluster.virtualMachine(ns, "vm1");
    create(ns, "s1", "{vmName: vm1, size: 2Gi, memoryLimit: 1Gi, spill: {size: 4Gi, location: /var/lib/remap/swap},"
        + " label: guest-swap}");

    VmMemorySwap swap = awaitReady(ns, "s1", "True", "Attached");
    String uid = swap.getMetadata().getUid();
    String pvName = "remap-swap-" + uid;
    assertThat(swap.getStatus().pvcName).isEqualTo("s1-swap");
    assertThat(swap.getStatus().volumeName).isEqualTo(pvName);
    assertThat(swap.getStatus().attachedTo).isEqualTo("vm1");
    assertThat(swap.getStatus().observedGeneration).isEqualTo(swap.getMetadata().getGeneration());
    assertThat(swap.getStatus().swapOuts).as("a stopped VM's swap disk is on no node: no counters").isNull();
    assertThat(swap.getMetadata().getFinalizers()).isNotEmpty();
    assertNotLiveMigratable(swap);

    PersistentVolume pv = cluster.admin.persistentVolumes().withName(pvName).get();
    assertThat(pv.getSpec().getCsi().getDriver()).isEqualTo("csi.remap.dev");
    assertThat(pv.getSpec().getCsi().getVolumeHandle()).isEqualTo("swap/" + ns + "/s1");
    assertThat(pv.getSpec().getCsi().getVolumeAttributes()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "remap.dev/kind", "swap",
        "remap.dev/swap-size", String.valueOf(2L << 30),
        "remap.dev/swap-memory-limit", String.valueOf(1L << 30),
        "remap.dev/swap-spill-size", String.valueOf(4L << 30),
        "remap.dev/swap-spill-location", "/var/lib/remap/swap",
        "remap.dev/swap-discard", "true",
        "remap.dev/swap-label", "guest-swap"));
    assertThat(pv.getSpec().getVolumeMode()).isEqualTo("Block");
    assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Delete");
    assertThat(pv.getStatus().getPhase()).isEqualTo("Bound");

    PersistentVolumeClaim pvc = cluster.admin.persistentVolumeClaims().inNamespace(ns).withName("s1-swap").get();
    assertThat(pvc.getStatus().getPhase()).isEqualTo("Bound");
    assertThat(pvc.getSpec().getVolumeName()).isEqualTo(pvName);
    assertThat(pvc.getMetadata().getLabels()).containsEntry("remap.dev/swap", "s1");
    OwnerReference owner = pvc.getMetadata().getOwnerReferences().get(0);
    assertThat(owner.getUid()).isEqualTo(uid);
    assertThat(owner.getKind()).isEqualTo("VmMemorySwap");

    GenericKubernetesResource vm = cluster.getVm(ns, "vm1");
    assertThat(VirtualDiskIT.vmList(vm, "template", "spec", "volumes")).extracting(v -> v.get("name"))
        .containsExactly("root", "s1-swap");
    assertThat(VirtualDiskIT.vmList(vm, "template", "spec", "volumes").get(1).get("persistentVolumeClaim"))
        .isEqualTo(Map.of("claimName", "s1-swap"));
    assertThat(VirtualDiskIT.vmList(vm, "template", "spec", "domain", "devices", "disks").get(1))
        .containsEntry("name", "s1-swap").containsEntry("disk", Map.of("bus", "virtio"));
    assertThat(Serialization.asJson(vm.getAdditionalProperties().get("spec"))).contains("\"someFutureField\":{\"keep\":\"me\"}");
    assertThat(cluster.cp.kubectl("get", "vmswap", "s1", "-n", ns).requireSuccess().output())
        .containsPattern("s1\\s+\\S+\\s+1Gi\\s+2Gi\\s+vm1\\s+True");

    cluster.admin.resources(VmMemorySwap.class).inNamespace(ns).withName("s1").delete();
    await().atMost(WAIT).until(() -> get(ns, "s1") == null);
    GenericKubernetesResource after = cluster.getVm(ns, "vm1");
    assertThat(VirtualDiskIT.vmList(after, "template", "spec", "volumes")).extracting(v -> v.get("name"))
        .containsExactly("root");
    assertThat(VirtualDiskIT.vmList(after, "template", "spec", "domain", "devices", "disks")).extracting(v -> v.get("name"))
        .containsExactly("root");
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(cluster.admin.persistentVolumeClaims().inNamespace(ns).withName("s1-swap").get()).isNull();
      assertThat(cluster.admin.persistentVolumes().withName(pvName).get()).isNull();
    });
  }

  @Test
  void aVmThatDoesNotExistIsNamedAndTheSwapWaitsForIt() {
    String ns = "it-swap-novm";
    cluster.namespace(ns);
    create(ns, "s", "{vmName: ghost, size: 1Gi, memoryLimit: 1Gi, format: none}");
    VmMemorySwap swap = awaitReady(ns, "s", "False", "VmNotFound");
    assertThat(condition(swap, "Ready").getMessage()).contains("VirtualMachine ghost", "spec.vmName");
    assertNotLiveMigratable(swap);
    assertThat(cluster.cp.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=s,involvedObject.kind=VmMemorySwap")
        .requireSuccess().output()).contains("VmNotFound");

    // The VM appears: no event reaches the swap's controller, its recheck finds it.
    cluster.virtualMachine(ns, "ghost");
    awaitReady(ns, "s", "True", "Attached");
    PersistentVolume pv = cluster.admin.persistentVolumes().withName(get(ns, "s").getStatus().volumeName).get();
    assertThat(pv.getSpec().getCsi().getVolumeAttributes()).doesNotContainKey("remap.dev/swap-label");
  }

  @Test
  void aMemoryLimitAboveThePoolCapIsRefusedNamingBothAndMakesNothing() {
    String ns = "it-swap-cap";
    cluster.namespace(ns);
    cluster.virtualMachine(ns, "vm1");
    create(ns, "big", "{vmName: vm1, size: 4Gi, memoryLimit: 4Gi}");
    VmMemorySwap swap = awaitReady(ns, "big", "False", "PoolExhausted");
    assertThat(condition(swap, "Ready").getMessage()).contains("spec.memoryLimit 4Gi", "cap 3Gi", "REMAP_SWAP_POOL_SIZE");
    assertThat(condition(swap, "Degraded").getStatus()).isEqualTo("True");
    assertNotLiveMigratable(swap);
    assertThat(cluster.admin.persistentVolumeClaims().inNamespace(ns).withName("big-swap").get()).isNull();
    assertThat(cluster.admin.persistentVolumes().withName("remap-swap-" + swap.getMetadata().getUid()).get()).isNull();
    assertThat(VirtualDiskIT.vmList(cluster.getVm(ns, "vm1"), "template", "spec", "volumes")).extracting(v -> v.get("name"))
        .containsExactly("root");
  }

  @Test
  void swapsOfVmsOnOneNodeShareItsPoolAndTheOldestKeepTheirPlace() {
    String ns = "it-swap-node";
    cluster.namespace(ns);
    for (String vm : List.of("vm-a", "vm-b")) {
      cluster.virtualMachine(ns, vm);
      vmi(ns, vm, "node-1");
    }
    create(ns, "a", "{vmName: vm-a, size: 2Gi, memoryLimit: 2Gi}");
    awaitReady(ns, "a", "True", "Attached");
    create(ns, "b", "{vmName: vm-b, size: 2Gi, memoryLimit: 2Gi}");
    VmMemorySwap b = awaitReady(ns, "b", "False", "PoolExhausted");
    assertThat(condition(b, "Ready").getMessage()).contains("node node-1", "cap 3Gi");
    // The VM gets the disk all the same (once its PVC binds): the node, not the operator, refuses to stage it.
    await().atMost(WAIT).untilAsserted(() -> {
      VmMemorySwap now = get(ns, "b");
      assertThat(now.getStatus().attachedTo).isEqualTo("vm-b");
      assertThat(condition(now, "Ready").getReason()).isEqualTo("PoolExhausted");
    });
    assertThat(condition(get(ns, "a"), "Ready").getStatus()).isEqualTo("True");

    // vm-a stops (its VMI goes): its pool room is free, and b fits at its next look.
    cluster.admin.genericKubernetesResources(VMI).inNamespace(ns).withName("vm-a").delete();
    awaitReady(ns, "b", "True", "Attached");
  }

  /**
   * The counters in status come from the CSI node plugin on the VM's node. No node plugin runs
   * here (no kubelet), so a Pod object stands for it: the chart's labels, spec.nodeName, a
   * container port named http, and, written through the status subresource, phase Running and
   * podIP 127.0.0.1, where an HTTP server in this test serves the node plugin's captured /metrics.
   */
  @Test
  void theCountersOfTheNodePluginOnTheVmsNodeAreInStatus() throws Exception {
    // The captured text's disks are swap/vms/vm1-swap and swap/vms/vm2-swap.
    String ns = "vms";
    String node = "node-fig";
    cluster.namespace(ns);
    // A Node object, so that kube-controller-manager's pod GC keeps the pods bound to it.
    cluster.admin.nodes().resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().build()).create();
    cluster.virtualMachine(ns, "vm1");
    vmi(ns, "vm1", node);
    try (NodeMetricsServer plugin = NodeMetricsServer.start(NodeMetricsServer::captured)) {
      nodePluginPod("remap-csi-node-a", node, plugin.port());
      create(ns, "vm1-swap", "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi}");
      awaitReady(ns, "vm1-swap", "True", "Attached");
      await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() ->
          assertThat(SwapFigures.of(get(ns, "vm1-swap").getStatus())).contains(NodeMetricsServer.VM1_FIGURES));
      VmMemorySwap swap = get(ns, "vm1-swap");
      assertThat(swap.getStatus().swapOuts).isEqualTo(14);
      assertThat(swap.getStatus().bytesCopied).isEqualTo(106_496);
      assertThat(cluster.cp.kubectl("get", "vmswap", "vm1-swap", "-n", ns, "-o", "wide").requireSuccess().output())
          .containsPattern("RESIDENT\\s+SPILLED").containsPattern("vm1-swap\\s.*True\\s+8192\\s+32768");

      // The node plugin stops answering: status keeps the counters it showed (the operator says why in its log).
      plugin.close();
      await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() -> operator.output()
          .contains("no counters for swap disk swap/vms/vm1-swap, its status keeps the last ones"));
      assertThat(SwapFigures.of(get(ns, "vm1-swap").getStatus())).contains(NodeMetricsServer.VM1_FIGURES);
    }

    // A new plugin pod on the node (a rollout) that no longer serves the disk (it was unstaged):
    // the counters leave status, rather than stay as if the disk still held those pages.
    try (NodeMetricsServer plugin = NodeMetricsServer.start(() ->
        NodeMetricsServer.capturedWithout(NodeMetricsServer.VM1))) {
      cluster.admin.pods().inNamespace(PLUGIN_NS).withName("remap-csi-node-a").delete();
      nodePluginPod("remap-csi-node-b", node, plugin.port());
      await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
          assertThat(get(ns, "vm1-swap").getStatus().swapOuts).isNull());
      assertThat(SwapFigures.of(get(ns, "vm1-swap").getStatus())).isEmpty();
      assertThat(condition(get(ns, "vm1-swap"), "Ready").getStatus()).isEqualTo("True");
    }
  }

  /**
   * A node that cannot stage the swap disk says so only in the kubelet's Warning event on the VM's
   * virt-launcher pod. No kubelet runs here: a Pod object with KubeVirt's labels stands for the
   * launcher, and the test writes the events the kubelet would, with the node plugin's own sentence
   * for a spill location that is not a directory (csi-driver's SwapVolumes.requireSpillLocation).
   */
  @Test
  void aNodeThatCannotStageTheDiskIsReportedNamingSpillLocationUntilTheDiskIsMapped() {
    String ns = "it-swap-stage";
    String node = "node-stage";
    cluster.namespace(ns);
    cluster.admin.nodes().resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().build()).create();
    cluster.virtualMachine(ns, "vm1");
    vmi(ns, "vm1", node);
    create(ns, "s", "{vmName: vm1, size: 2Gi, memoryLimit: 1Gi, spill: {size: 4Gi, location: /nope}}");
    String pv = "remap-swap-" + awaitReady(ns, "s", "True", "Attached").getMetadata().getUid();

    Pod launcher = launcherPod(ns, "virt-launcher-vm1-abcde", "vm1", node);
    // Another VM's launcher with a newer event naming this disk must not count: only vm1's pods are read.
    Pod other = launcherPod(ns, "virt-launcher-vm2-fghij", "vm2", node);
    Instant t = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    String nodeSentence = "volume_context.remap.dev/swap-spill-location (spill.location): /nope is not a directory on"
        + " node " + node + ": the swap disk's spill file is made there";
    kubeletEvent(other, "Warning", "FailedMapVolume", t.plusSeconds(1), "MapVolume.SetUpDevice failed for volume \"" + pv
        + "\" : rpc error: code = Internal desc = not this VM's");
    kubeletEvent(launcher, "Warning", "FailedMapVolume", t, "MapVolume.SetUpDevice failed for volume \"" + pv
        + "\" : kubernetes.io/csi: blockMapper.stageVolumeForBlock failed: rpc error: code = InvalidArgument desc = "
        + nodeSentence);

    VmMemorySwap failed = awaitReady(ns, "s", "False", "SpillLocationInvalid");
    assertThat(condition(failed, "Ready").getMessage()).contains("VirtualMachine vm1", pv, nodeSentence);
    assertThat(condition(failed, "Degraded").getStatus()).isEqualTo("True");
    assertThat(failed.getStatus().attachedTo).as("the disk stays in the VM; the kubelet retries").isEqualTo("vm1");
    assertThat(cluster.cp.kubectl("get", "events", "-n", ns, "--field-selector",
        "involvedObject.name=s,involvedObject.kind=VmMemorySwap").requireSuccess().output())
        .contains("SpillLocationInvalid");

    // The directory is made on the node and the kubelet's retry maps the disk: the condition clears.
    kubeletEvent(launcher, "Normal", "SuccessfulMountVolume", t.plusSeconds(2), "MapVolume.MapPodDevice succeeded"
        + " for volume \"" + pv + "\" volumeMapPath \"/var/lib/kubelet/pods/x/volumeDevices/kubernetes.io~csi\"");
    awaitReady(ns, "s", "True", "Attached");
  }

  /** A virt-launcher pod as KubeVirt labels it, bound to a node (no kubelet runs it). */
  private Pod launcherPod(String ns, String name, String vm, String node) {
    Pod pod = Serialization.unmarshal("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          namespace: %s
          labels: {kubevirt.io: virt-launcher, vm.kubevirt.io/name: %s, kubevirt.io/domain: %s}
        spec:
          nodeName: %s
          automountServiceAccountToken: false
          containers:
          - name: compute
            image: localhost/virt-launcher:test
        """.formatted(name, ns, vm, vm, node), Pod.class);
    // The namespace's default ServiceAccount may not be made yet: the pod is refused until it is.
    return await().atMost(WAIT).ignoreExceptions()
        .until(() -> cluster.admin.pods().inNamespace(ns).resource(pod).create(), p -> p != null);
  }

  /** An event on a pod, as the kubelet records one (core/v1, source kubelet on the pod's node). */
  private void kubeletEvent(Pod pod, String type, String reason, Instant at, String message) {
    Event event = new EventBuilder()
        .withNewMetadata().withGenerateName(pod.getMetadata().getName() + ".")
        .withNamespace(pod.getMetadata().getNamespace()).endMetadata()
        .withNewInvolvedObject().withApiVersion("v1").withKind("Pod").withName(pod.getMetadata().getName())
        .withNamespace(pod.getMetadata().getNamespace()).withUid(pod.getMetadata().getUid()).endInvolvedObject()
        .withType(type).withReason(reason).withMessage(message)
        .withFirstTimestamp(at.toString()).withLastTimestamp(at.toString()).withCount(1)
        .withNewSource().withComponent("kubelet").withHost(pod.getSpec().getNodeName()).endSource()
        .build();
    cluster.admin.v1().events().inNamespace(pod.getMetadata().getNamespace()).resource(event).create();
  }

  /** A running node plugin pod, as far as the API server can tell: labels, node, http port, podIP. */
  private void nodePluginPod(String name, String node, int port) {
    Pod pod = Serialization.unmarshal("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          namespace: %s
          labels: {app.kubernetes.io/name: remap, app.kubernetes.io/instance: remap, app.kubernetes.io/component: csi-node}
        spec:
          nodeName: %s
          automountServiceAccountToken: false
          containers:
          - name: csi
            image: localhost/remap:test
            ports: [{name: http, containerPort: %d}]
        """.formatted(name, PLUGIN_NS, node, port), Pod.class);
    Pod created = await().atMost(WAIT).ignoreExceptions()
        .until(() -> cluster.admin.pods().inNamespace(PLUGIN_NS).resource(pod).create(), p -> p != null);
    created.setStatus(new PodStatusBuilder().withPhase("Running").withPodIP("127.0.0.1")
        .withPodIPs(new PodIPBuilder().withIp("127.0.0.1").build()).build());
    cluster.admin.pods().inNamespace(PLUGIN_NS).resource(created).updateStatus();
  }

  private void vmi(String ns, String name, String node) {
    cluster.admin.genericKubernetesResources(VMI).inNamespace(ns).resource(Serialization.unmarshal("""
        apiVersion: kubevirt.io/v1
        kind: VirtualMachineInstance
        metadata: {name: %s, namespace: %s}
        spec: {}
        status: {nodeName: %s, phase: Running}
        """.formatted(name, ns, node), GenericKubernetesResource.class)).create();
  }
}
