package dev.remap.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.remap.api.share.LogicalDiskShare;
import dev.remap.api.share.LogicalDiskShareStatus;
import dev.remap.engine.share.Outbox;
import dev.remap.engine.share.ShareStatus;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.operator.share.ShareNames;
import dev.remap.operator.status.Conditions;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import dev.remap.testkit.Ports;
import dev.remap.testkit.S3ServerProcess;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * LogicalDiskShare on a real control plane with the packaged operator (as its ServiceAccount), a
 * real S3 server as the user's cloud, a file store as Remap's, and the real `remap share-agent`
 * started by the test with the Deployment's own arguments where the kubelet would run its pod
 * ({@link ShareAgentStandIn}). Shown: the agent's Deployment and copied Secret; a static PV and a
 * bound PVC per VM disk, put into each VM's spec with the share's serial; the agent's figures,
 * conditions and events on the share; a new cloud file making generation 2, to which a stopped VM
 * moves (its old disk released) while a running one stays; each bad input named in a condition;
 * deletion taking everything away, the share's volumes and shares/ID/ objects in the store too,
 * and waiting (a Warning Event) while a VM's change has not reached the cloud, until the share is
 * annotated to abandon it. The operator looks at settled shares every 2 s here.
 */
@ExtendWith(ControlPlaneExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LogicalDiskShareIT {

  static final Duration WAIT = Duration.ofSeconds(90);
  static final String SYSTEM = "remap-system";
  static final String BUCKET = "family";
  private TestCluster cluster;
  private ShareWorld world;
  private OperatorProcess operator;
  private S3ServerProcess s3;
  private Path dir;
  private Path store;
  private int agentPort;
  private final List<ShareAgentStandIn> agents = new ArrayList<>();

  @BeforeAll
  void setUp(ControlPlane cp) throws Exception {
    cluster = TestCluster.of(cp);
    dir = Files.createTempDirectory("remap-share-it-");
    store = Files.createDirectories(dir.resolve("store"));
    ShareWorld.installVmiCrd(cp, dir);
    s3 = S3ServerProcess.start(dir.resolve("s3"));
    s3.createBucket(BUCKET);
    world = new ShareWorld(cluster, s3, dir);
    world.put(BUCKET, "Photos/a.jpg", "a photo of the beach");
    world.put(BUCKET, "Photos/b.png", "a picture");
    world.put(BUCKET, "Texts/notes.txt", "meeting at noon\n");
    agentPort = Ports.free();
    operator = OperatorProcess.start(cluster.operatorKubeconfig, "it-share", Map.of("REMAP_STORE", "file://" + store,
        "REMAP_JOB_IMAGE", "localhost/remap:it", "REMAP_SHARE_AGENT_PORT", Integer.toString(agentPort),
        "REMAP_SHARE_REFRESH", "2s")).awaitReady(Duration.ofMinutes(2));
  }

  @AfterAll
  void tearDown() {
    agents.forEach(ShareAgentStandIn::close);
    if (operator != null) {
      operator.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private Deployment awaitDeployment(LogicalDiskShare share) {
    String name = ShareNames.agent(share);
    return await().atMost(WAIT).pollInterval(Duration.ofMillis(300))
        .until(() -> cluster.admin.apps().deployments().inNamespace(SYSTEM).withName(name).get(), d -> d != null);
  }

  private ShareAgentStandIn runAgent(LogicalDiskShare share) {
    ShareAgentStandIn agent = ShareAgentStandIn.start(cluster.admin, awaitDeployment(share), dir);
    agents.add(agent);
    return agent;
  }

  static Condition condition(LogicalDiskShare s, String type) {
    return s == null || s.getStatus() == null ? null : Conditions.find(s.getStatus().conditions, type).orElse(null);
  }

  private LogicalDiskShare awaitCondition(String ns, String name, String type, String status, String reason) {
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      Condition c = condition(world.get(ns, name), type);
      assertThat(c).as("%s of %s/%s", type, ns, name).isNotNull();
      assertThat(c.getReason()).as("%s: %s\n%s", type, c.getMessage(), operator.output()).isEqualTo(reason);
      assertThat(c.getStatus()).isEqualTo(status);
    });
    return world.get(ns, name);
  }

  private static ShareStatus.Vm agentDisk(ShareStatus status, String vm, String group, long generation) {
    return status.vms().stream().filter(d -> d.vm().equals(vm) && d.group().equals(group)
        && d.generation() == generation).findFirst()
        .orElseThrow(() -> new AssertionError("the agent has no disk " + vm + "/" + group + " g" + generation));
  }

  /** The VM disk's PV (handle: the agent's volume) and its bound PVC, in the VM's spec with the group's serial. */
  private void assertDisk(LogicalDiskShare share, ShareAgentStandIn agent, String vm, String group, long generation) {
    String ns = share.getMetadata().getNamespace();
    String pvName = ShareNames.persistentVolume(share, vm, group, generation);
    String pvcName = ShareNames.pvc(share, vm, group, generation);
    String volume = agentDisk(agent.status(), vm, group, generation).volume();
    assertThat(volume).startsWith("share-" + ShareNames.shareId(share) + "-").contains("-g" + generation + "-vm-");
    await().atMost(WAIT).untilAsserted(() -> assertThat(cluster.admin.persistentVolumeClaims().inNamespace(ns)
        .withName(pvcName).get().getStatus().getPhase()).isEqualTo("Bound"));
    PersistentVolume pv = cluster.admin.persistentVolumes().withName(pvName).get();
    assertThat(pv.getSpec().getCsi().getDriver()).isEqualTo("csi.remap.dev");
    assertThat(pv.getSpec().getCsi().getVolumeHandle()).isEqualTo(volume);
    assertThat(pv.getSpec().getVolumeMode()).isEqualTo("Block");
    assertThat(pv.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Retain");
    PersistentVolumeClaim pvc = cluster.admin.persistentVolumeClaims().inNamespace(ns).withName(pvcName).get();
    assertThat(pvc.getSpec().getVolumeName()).isEqualTo(pvName);
    assertThat(pvc.getSpec().getVolumeMode()).isEqualTo("Block");
    assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(pvc.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(share.getMetadata().getUid()));
    String disk = ShareNames.vmDisk(share, group, generation);
    var spec = cluster.getVm(ns, vm);
    assertThat(VirtualDiskIT.vmList(spec, "template", "spec", "volumes"))
        .contains(Map.of("name", disk, "persistentVolumeClaim", Map.of("claimName", pvcName)));
    assertThat(VirtualDiskIT.vmList(spec, "template", "spec", "domain", "devices", "disks"))
        .anySatisfy(d -> assertThat(d).containsEntry("name", disk)
            .containsEntry("serial", ShareNames.serial(share, group)).containsEntry("disk", Map.of("bus", "virtio")));
  }

  @Test
  void aShareRunsItsAgentGivesEachVmItsDisksMovesStoppedVmsToANewGenerationAndGoesAway() throws Exception {
    String ns = "it-share";
    cluster.namespace(ns);
    world.secret(ns, "family-bucket", S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY);
    world.vm(ns, "vm-a", Map.of());
    world.vm(ns, "vm-b", Map.of());
    world.vm(ns, "vm-c", Map.of("team", "c"));
    LogicalDiskShare share = world.share(ns, "family", """
        {cloud: {endpoint: "%s", bucket: %s, secretRef: {name: family-bucket}},
         split: {mode: byFolder},
         allocation: [{vmNames: [vm-a, vm-b], disks: [Photos]},
                      {vmSelector: {matchLabels: {team: c}}, disks: [Photos, Texts]}],
         sync: {retryInterval: 500ms, interval: 2s}}
        """.formatted(s3.endpoint(), BUCKET));
    String uid = share.getMetadata().getUid();

    // The agent's Deployment: one pod, never two at once, every setting an argument, credentials by reference.
    Deployment deployment = awaitDeployment(share);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    assertThat(deployment.getSpec().getSelector().getMatchLabels()).containsEntry("remap.dev/share-uid", uid);
    Container c = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("localhost/remap:it");
    assertThat(c.getArgs()).startsWith("share-agent", "--store", "file://" + store)
        .containsSubsequence("--share-id", ShareNames.shareId(share)).containsSubsequence("--bucket", BUCKET)
        .containsSubsequence("--cloud-endpoint", s3.endpoint().toString()).containsSubsequence("--split", "byFolder")
        .containsSubsequence("--interval", "2s", "--retry-interval", "500ms")
        .containsSubsequence("--vm", "vm-a=Photos", "--vm", "vm-b=Photos", "--vm", "vm-c=Photos,Texts")
        .containsSubsequence("--listen", "0.0.0.0:" + agentPort);
    assertThat(c.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("http");
      assertThat(p.getContainerPort()).isEqualTo(agentPort);
    });
    assertThat(c.getEnv()).extracting(EnvVar::getName)
        .containsExactlyInAnyOrder("REMAP_CLOUD_ACCESS_KEY_ID", "REMAP_CLOUD_SECRET_ACCESS_KEY");
    assertThat(c.getEnv()).allSatisfy(e -> {
      assertThat(e.getValue()).isNull();
      assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo(ShareNames.agent(share));
    });
    assertThat(Serialization.asJson(deployment)).doesNotContain(S3ServerProcess.SECRET_KEY)
        .doesNotContain(S3ServerProcess.ACCESS_KEY);
    // The operator copies the credentials just after creating the Deployment (the copy is owned by
    // it, so it needs the Deployment's uid): a kubelet keeps the pod waiting for the Secret, and so
    // does this (CI once read it in between).
    Secret copy = await().atMost(WAIT).pollInterval(Duration.ofMillis(100))
        .until(() -> cluster.admin.secrets().inNamespace(SYSTEM).withName(ShareNames.agent(share)).get(), x -> x != null);
    assertThat(copy.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(deployment.getMetadata().getUid()));
    assertThat(copy.getData()).containsOnlyKeys("accessKeyId", "secretAccessKey");

    // The kubelet's part, played by the test: the real agent with the Deployment's arguments.
    ShareAgentStandIn agent = runAgent(share);
    LogicalDiskShare ready = awaitCondition(ns, "family", "Ready", "True", "Shared");
    LogicalDiskShareStatus st = ready.getStatus();
    assertThat(st.connected).isTrue();
    assertThat(st.diskCount).isEqualTo(2);
    assertThat(st.vmCount).isEqualTo(3);
    assertThat(st.generation).isEqualTo(1);
    assertThat(st.observedGeneration).isEqualTo(ready.getMetadata().getGeneration());
    assertThat(st.disks).extracting(d -> d.group + " " + d.files + " " + d.bytes + " g" + d.generation)
        .containsExactlyInAnyOrder("Photos 2 " + ("a photo of the beach".length() + "a picture".length()) + " g1",
            "Texts 1 " + "meeting at noon\n".length() + " g1");
    assertThat(condition(ready, "Degraded").getStatus()).isEqualTo("False");
    assertDisk(ready, agent, "vm-a", "Photos", 1);
    assertDisk(ready, agent, "vm-b", "Photos", 1);
    assertDisk(ready, agent, "vm-c", "Photos", 1);
    assertDisk(ready, agent, "vm-c", "Texts", 1);
    assertThat(cluster.admin.persistentVolumes().withLabel("remap.dev/share", uid).list().getItems()).hasSize(4);
    assertThat(st.vms).filteredOn(v -> v.name.equals("vm-c")).singleElement().satisfies(v -> assertThat(v.disks)
        .extracting(d -> d.group + " " + d.pvcName + " " + d.serial + " g" + d.generation + " " + d.attached)
        .containsExactlyInAnyOrder(
            "Photos " + ShareNames.pvc(share, "vm-c", "Photos", 1) + " " + ShareNames.serial(share, "Photos") + " g1 true",
            "Texts " + ShareNames.pvc(share, "vm-c", "Texts", 1) + " " + ShareNames.serial(share, "Texts") + " g1 true"));
    assertThat(world.columns(ns, "family")).containsEntry("READY", "True").containsEntry("CONNECTED", "true")
        .containsEntry("DISKS", "2").containsEntry("VMS", "3").containsEntry("PENDING", "0");
    await().atMost(WAIT).untilAsserted(() -> assertThat(world.events(ns, "family"))
        .anyMatch(e -> e.startsWith("Synced: generation 1 built: 3 files fetched")));

    // The cloud goes away: the share says so about a second after the agent's next round (it
    // re-checks every 500 ms here; the operator looks at a settled share every second), and
    // recovers when the cloud is back.
    s3.stop();
    long stopped = System.nanoTime();
    awaitCondition(ns, "family", "Degraded", "True", "CloudUnreachable");
    Duration took = Duration.ofNanos(System.nanoTime() - stopped);
    System.out.println("Degraded (CloudUnreachable) " + took.toMillis() + " ms after the cloud stopped");
    assertThat(took).as("Degraded after the cloud stopped").isLessThan(Duration.ofSeconds(4));
    assertThat(world.get(ns, "family").getStatus().connected).isFalse();
    assertThat(world.columns(ns, "family")).containsEntry("CONNECTED", "false");
    s3.restart();
    awaitCondition(ns, "family", "Ready", "True", "Shared");

    // vm-b starts (its VMI appears), then a file arrives in the cloud: generation 2. The stopped
    // VMs move to it at once (the agent's /rebase) and their old disks are released; vm-b stays.
    world.vmi(ns, "vm-b");
    world.put(BUCKET, "Photos/c.jpg", "a new photo");
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      assertThat(world.get(ns, "family").getStatus().generation).isEqualTo(2);
      assertThat(world.volumes(ns, "vm-a")).containsExactly("root", ShareNames.vmDisk(share, "Photos", 2));
    });
    assertDisk(share, agent, "vm-a", "Photos", 2);
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(cluster.admin.persistentVolumeClaims().inNamespace(ns)
          .withName(ShareNames.pvc(share, "vm-a", "Photos", 1)).get()).isNull();
      assertThat(cluster.admin.persistentVolumes().withName(ShareNames.persistentVolume(share, "vm-a", "Photos", 1))
          .get()).isNull();
      assertThat(agent.status().vms()).as("released by the agent").noneMatch(d -> d.vm().equals("vm-a")
          && d.generation() == 1);
    });
    assertThat(world.volumes(ns, "vm-b")).containsExactly("root", ShareNames.vmDisk(share, "Photos", 1));
    assertDisk(share, agent, "vm-b", "Photos", 1);
    assertThat(agentDisk(agent.status(), "vm-b", "Photos", 1).retired()).isFalse();
    await().atMost(WAIT).untilAsserted(() -> assertThat(world.get(ns, "family").getStatus().disks)
        .filteredOn(d -> d.group.equals("Photos")).singleElement().satisfies(d -> assertThat(d.files).isEqualTo(3)));
    assertThat(world.events(ns, "family")).anyMatch(e -> e.startsWith("Synced: generation 2 built: 1 change(s)"));

    // vm-b stops (its VMI goes): it moves to generation 2 in turn, and its old disk goes.
    cluster.admin.genericKubernetesResources(ShareWorld.VMI).inNamespace(ns).withName("vm-b").delete();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      assertThat(world.volumes(ns, "vm-b")).containsExactly("root", ShareNames.vmDisk(share, "Photos", 2));
      assertThat(cluster.admin.persistentVolumes().withName(ShareNames.persistentVolume(share, "vm-b", "Photos", 1))
          .get()).isNull();
      assertThat(agent.status().vms()).noneMatch(d -> d.generation() == 1);
    });
    assertDisk(share, agent, "vm-b", "Photos", 2);
    await().atMost(WAIT).untilAsserted(() -> {
      LogicalDiskShare moved = world.get(ns, "family");
      assertThat(condition(moved, "Ready").getReason()).isEqualTo("Shared");
      assertThat(moved.getStatus().vmCount).isEqualTo(3);
      assertThat(moved.getStatus().vms.stream().flatMap(v -> v.disks.stream()).map(d -> d.generation))
          .containsOnly(2L).hasSize(4);
    });

    // Deleting the share takes the disks out of the VMs, then the agent removes the share from the
    // store, then the PVs, PVCs and the agent go.
    String id = ShareNames.shareId(share);
    assertThat(shareVolumes(id)).as("the VMs' clones and their bases").hasSizeGreaterThanOrEqualTo(4 + 2);
    assertThat(shareObjects(id)).isNotEmpty();
    cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).withName("family").delete();
    await().atMost(WAIT).until(() -> world.get(ns, "family") == null);
    for (String vm : List.of("vm-a", "vm-b", "vm-c")) {
      assertThat(world.volumes(ns, vm)).as(vm).containsExactly("root");
      assertThat(VirtualDiskIT.vmList(cluster.getVm(ns, vm), "template", "spec", "domain", "devices", "disks"))
          .extracting(d -> d.get("name")).containsExactly("root");
    }
    assertThat(cluster.admin.apps().deployments().inNamespace(SYSTEM).withName(ShareNames.agent(share)).get()).isNull();
    assertThat(shareVolumes(id)).as("the share's volumes in the store").isEmpty();
    assertThat(shareObjects(id)).as("shares/" + id + "/ in the store").isEmpty();
    assertThat(agent.output()).contains("share " + id + " deleted: ");
    // The PVCs go with the share (garbage collector); each PV, deleted by the finalizer, waits for
    // its PVC (kubernetes.io/pv-protection).
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(cluster.admin.persistentVolumeClaims().inNamespace(ns).withLabel("remap.dev/share", uid).list()
          .getItems()).isEmpty();
      assertThat(cluster.admin.persistentVolumes().withLabel("remap.dev/share", uid).list().getItems()).isEmpty();
    });
  }

  @Test
  void eachBadInputIsNamedInAConditionAndNothingCrashLoops() throws Exception {
    String ns = "it-share-bad";
    cluster.namespace(ns);
    world.secret(ns, "good", S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY);
    world.secret(ns, "wrong", "someone-else", "not-the-secret");
    world.vm(ns, "vm-x", Map.of());
    String photos = "allocation: [{vmNames: [vm-x], disks: [Photos]}]";
    String good = "endpoint: \"" + s3.endpoint() + "\", secretRef: {name: good}";
    int closed = Ports.free();
    LogicalDiskShare noSecret = world.share(ns, "no-secret", "{cloud: {endpoint: \"%s\", bucket: %s, secretRef: {name: nope}},"
        .formatted(s3.endpoint(), BUCKET) + " split: {mode: byFolder}, " + photos + "}");
    Map<String, LogicalDiskShare> running = Map.of(
        "VmNotFound", world.share(ns, "ghost-vm", "{cloud: {" + good + ", bucket: " + BUCKET + "}, split: {mode: byFolder},"
            + " allocation: [{vmNames: [vm-x, ghost], disks: [Photos]}]}"),
        "CredentialsRejected", world.share(ns, "bad-creds", "{cloud: {endpoint: \"" + s3.endpoint() + "\", bucket: "
            + BUCKET + ", secretRef: {name: wrong}}, split: {mode: byFolder}, " + photos + "}"),
        "BucketNotFound", world.share(ns, "no-bucket", "{cloud: {" + good + ", bucket: no-such-bucket},"
            + " split: {mode: byFolder}, " + photos + "}"),
        "CloudUnreachable", world.share(ns, "unreachable", "{cloud: {endpoint: \"http://127.0.0.1:" + closed
            + "\", bucket: " + BUCKET + ", secretRef: {name: good}}, split: {mode: byFolder}, " + photos + "}"),
        "EmptyPrefix", world.share(ns, "empty", "{cloud: {" + good + ", bucket: " + BUCKET + ", prefix: nothing-here/},"
            + " split: {mode: byFolder}, " + photos + "}"));
    Map<String, ShareAgentStandIn> started = new java.util.HashMap<>();
    running.forEach((reason, share) -> started.put(reason, runAgent(share)));

    LogicalDiskShare s = awaitCondition(ns, "no-secret", "Degraded", "True", "SecretNotFound");
    assertThat(condition(s, "Ready").getMessage()).contains("Secret nope", "spec.cloud.secretRef");
    assertThat(cluster.admin.apps().deployments().inNamespace(SYSTEM).withName(ShareNames.agent(noSecret)).get())
        .as("no agent without credentials").isNull();
    s = awaitCondition(ns, "ghost-vm", "Degraded", "True", "VmNotFound");
    assertThat(condition(s, "Ready").getMessage()).contains("VirtualMachine ghost", "spec.allocation[].vmNames")
        .doesNotContain("vm-x");
    s = awaitCondition(ns, "bad-creds", "Degraded", "True", "CredentialsRejected");
    assertThat(condition(s, "Ready").getMessage()).contains("bucket " + BUCKET, "spec.cloud");
    assertThat(s.getStatus().connected).isFalse();
    s = awaitCondition(ns, "no-bucket", "Degraded", "True", "BucketNotFound");
    assertThat(condition(s, "Ready").getMessage()).contains("bucket no-such-bucket");
    s = awaitCondition(ns, "unreachable", "Degraded", "True", "CloudUnreachable");
    assertThat(condition(s, "Ready").getMessage()).contains("127.0.0.1:" + closed);
    s = awaitCondition(ns, "empty", "Degraded", "True", "EmptyPrefix");
    assertThat(condition(s, "Ready").getMessage()).contains("prefix nothing-here/", "holds no files");
    assertThat(world.columns(ns, "unreachable")).containsEntry("READY", "False").containsEntry("CONNECTED", "false");

    // Nothing crash-loops: checked all along a few of the agents' rounds and the operator's looks,
    // the agents keep running, each share keeps its reason, and no reconcile fails.
    await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      started.forEach((reason, agent) -> assertThat(agent.isAlive()).as(reason + ":\n" + agent.output()).isTrue());
      assertThat(operator.isAlive()).isTrue();
      running.forEach((reason, share) -> assertThat(condition(world.get(ns, share.getMetadata().getName()),
          "Degraded").getReason()).as(share.getMetadata().getName()).isEqualTo(reason));
    });
    assertThat(operator.output()).doesNotContain("Uncaught error during event processing");
    assertThat(world.events(ns, "unreachable")).anyMatch(e -> e.startsWith("CloudUnreachable: "));

    // A VM's change waits for the unreachable cloud (put in the outbox as the agent stages one):
    // the share's deletion waits too, says why in a Warning Event, and keeps the share's store,
    // until the share is annotated to abandon the change.
    LogicalDiskShare offline = running.get("CloudUnreachable");
    String offlineId = ShareNames.shareId(offline);
    try (ObjectStore files = FileObjectStore.open(store)) {
      new Outbox(files, offlineId).stage(List.of(new Outbox.Op("vm-x", "Photos", Outbox.Kind.PUT, "Photos/new.jpg",
          null, null, java.time.Instant.now())));
    }
    cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).withName("unreachable").delete();
    await().atMost(WAIT).untilAsserted(() -> assertThat(world.events(ns, "unreachable")).anySatisfy(e -> assertThat(e)
        .startsWith("PendingUploads: The share is not deleted yet: 1 change(s) of its VMs have not reached the cloud")
        .contains("the cloud did not answer", "127.0.0.1:" + closed,
            "remap.dev/abandon-pending-uploads=\"true\"")));
    assertThat(world.get(ns, "unreachable")).as("kept while its change waits").isNotNull();
    assertThat(shareObjects(offlineId)).contains("shares/" + offlineId + "/outbox/0000000000000001.ops");
    cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).withName("unreachable")
        .edit(s2 -> {
          Map<String, String> annotations = new java.util.HashMap<>();
          if (s2.getMetadata().getAnnotations() != null) {
            annotations.putAll(s2.getMetadata().getAnnotations());
          }
          annotations.put("remap.dev/abandon-pending-uploads", "true");
          s2.getMetadata().setAnnotations(annotations);
          return s2;
        });
    await().atMost(WAIT).until(() -> world.get(ns, "unreachable") == null);
    assertThat(shareObjects(offlineId)).isEmpty();

    for (LogicalDiskShare share : running.values()) {
      cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).withName(share.getMetadata().getName()).delete();
    }
    cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).withName("no-secret").delete();
    await().atMost(WAIT).until(() -> cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).list()
        .getItems().isEmpty());
    for (LogicalDiskShare share : running.values()) {
      assertThat(shareObjects(ShareNames.shareId(share))).as(share.getMetadata().getName()).isEmpty();
    }
  }

  /** The volumes of share id in Remap's store (bases and VM clones, every generation). */
  private List<String> shareVolumes(String id) throws java.io.IOException {
    try (ObjectStore files = FileObjectStore.open(store)) {
      return files.list("volumes/share-" + id + "-").stream().map(ObjectInfo::key).toList();
    }
  }

  /** The keys under shares/ID/ in Remap's store. */
  private List<String> shareObjects(String id) throws java.io.IOException {
    try (ObjectStore files = FileObjectStore.open(store)) {
      return files.list("shares/" + id + "/").stream().map(ObjectInfo::key).toList();
    }
  }
}
