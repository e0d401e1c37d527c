package dev.remap.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.remap.api.share.LogicalDiskShare;
import dev.remap.api.share.LogicalDiskShareStatus;
import dev.remap.engine.share.ShareStatus;
import dev.remap.operator.share.ShareNames;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import dev.remap.testkit.Ports;
import dev.remap.testkit.S3ServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * spec.sync.newGenerations: hotplug on a real control plane with the packaged operator and the
 * real agent process (as in {@link LogicalDiskShareIT}): a running VM is moved to a new generation
 * at once, its new disk is asked of KubeVirt by addvolume beside the old one (on scsi, with a
 * serial per generation), the old one stays in the VM and with the agent while the VM runs, and
 * goes (out of the spec, released by the agent, its PV deleted) once the VM stops. No virt-api
 * runs here, so the addvolume request fails and the share says so, naming KubeVirt's
 * subresources API: the request itself is the one VirtualDisks make, which OperatorCsiEndToEndTest
 * sends to KubeVirt's real virt-api. KubeVirt's part in starting and stopping the VM is played by
 * the test: a VirtualMachineInstance and the VM's status (ready, printableStatus).
 */
@ExtendWith(ControlPlaneExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LogicalDiskShareHotplugIT {

  static final Duration WAIT = LogicalDiskShareIT.WAIT;
  static final String BUCKET = "hotplug";
  private TestCluster cluster;
  private ShareWorld world;
  private OperatorProcess operator;
  private S3ServerProcess s3;
  private Path dir;
  private ShareAgentStandIn agent;

  @BeforeAll
  void setUp(ControlPlane cp) throws Exception {
    cluster = TestCluster.of(cp);
    dir = Files.createTempDirectory("remap-share-hotplug-it-");
    Path store = Files.createDirectories(dir.resolve("store"));
    ShareWorld.installVmiCrd(cp, dir);
    s3 = S3ServerProcess.start(dir.resolve("s3"));
    s3.createBucket(BUCKET);
    world = new ShareWorld(cluster, s3, dir);
    world.put(BUCKET, "Photos/a.jpg", "a photo of the beach");
    operator = OperatorProcess.start(cluster.operatorKubeconfig, "it-hotplug", Map.of("REMAP_STORE", "file://" + store,
        "REMAP_JOB_IMAGE", "localhost/remap:it", "REMAP_SHARE_AGENT_PORT", Integer.toString(Ports.free()),
        "REMAP_SHARE_REFRESH", "2s")).awaitReady(Duration.ofMinutes(2));
  }

  @AfterAll
  void tearDown() {
    if (agent != null) {
      agent.close();
    }
    if (operator != null) {
      operator.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void aRunningVmGetsTheNewGenerationBesideItsDiskAndLosesTheOldOneWhenItStops() throws Exception {
    String ns = "it-hotplug";
    cluster.namespace(ns);
    world.secret(ns, "cloud", S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY);
    world.vm(ns, "live", Map.of());
    LogicalDiskShare share = world.share(ns, "hot", """
        {cloud: {endpoint: "%s", bucket: %s, secretRef: {name: cloud}},
         split: {mode: byFolder},
         allocation: [{vmNames: [live], disks: [Photos]}],
         sync: {retryInterval: 500ms, interval: 2s, newGenerations: hotplug}}
        """.formatted(s3.endpoint(), BUCKET));
    agent = ShareAgentStandIn.start(cluster.admin, await().atMost(WAIT).until(() -> cluster.admin.apps().deployments()
        .inNamespace(LogicalDiskShareIT.SYSTEM).withName(ShareNames.agent(share)).get(), d -> d != null), dir);
    String g1 = ShareNames.vmDisk(share, "Photos", 1);
    String g2 = ShareNames.vmDisk(share, "Photos", 2);
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300))
        .untilAsserted(() -> assertThat(world.volumes(ns, "live")).containsExactly("root", g1));
    // Every disk of such a share: scsi (where every KubeVirt hot-plugs), a serial per generation.
    assertThat(disks(ns)).contains(Map.of("name", g1, "serial", ShareNames.serial(share, "Photos", 1),
        "disk", Map.of("bus", "scsi")));
    assertThat(ShareNames.serial(share, "Photos", 1)).hasSize(20).isNotEqualTo(ShareNames.serial(share, "Photos", 2))
        .isNotEqualTo(ShareNames.serial(share, "Photos"));

    // The VM starts; then the cloud changes: generation 2. The running VM is moved at once: the
    // agent has its new disk and keeps the old one, retired; the old stays in the VM's spec.
    running(ns, "live", true);
    world.put(BUCKET, "Photos/b.jpg", "a new photo");
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      ShareStatus status = agent.status();
      assertThat(status.generation()).isEqualTo(2);
      assertThat(status.vms()).extracting(d -> d.group() + " g" + d.generation() + (d.retired() ? " retired" : ""))
          .containsExactlyInAnyOrder("Photos g1 retired", "Photos g2");
    });
    // KubeVirt's addvolume is asked for the new disk: no virt-api answers here, and the share says so.
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      LogicalDiskShareStatus st = world.get(ns, "hot").getStatus();
      assertThat(st.vms).singleElement().satisfies(v -> assertThat(v.disks)
          .extracting(d -> d.pvcName + " " + d.serial + " g" + d.generation + " " + d.attached)
          .containsExactly(ShareNames.pvc(share, "live", "Photos", 2) + " " + ShareNames.serial(share, "Photos", 2)
              + " g2 false"));
      assertThat(LogicalDiskShareIT.condition(world.get(ns, "hot"), "Ready").getMessage())
          .as("the share names what the hotplug lacks").contains("addvolume");
    });
    assertThat(world.volumes(ns, "live")).as("the old disk stays while the VM runs").containsExactly("root", g1);
    assertThat(cluster.admin.persistentVolumes().withName(ShareNames.persistentVolume(share, "live", "Photos", 1)).get())
        .as("the old disk's PV while the VM runs").isNotNull();

    // The VM stops: the old disk leaves its spec and the agent, the new one goes in its place.
    cluster.admin.genericKubernetesResources(ShareWorld.VMI).inNamespace(ns).withName("live").delete();
    running(ns, "live", false);
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      assertThat(world.volumes(ns, "live")).containsExactly("root", g2);
      assertThat(agent.status().vms()).extracting(ShareStatus.Vm::generation).containsExactly(2L);
      assertThat(cluster.admin.persistentVolumes().withName(ShareNames.persistentVolume(share, "live", "Photos", 1))
          .get()).isNull();
    });
    assertThat(disks(ns)).contains(Map.of("name", g2, "serial", ShareNames.serial(share, "Photos", 2),
        "disk", Map.of("bus", "scsi")));
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      LogicalDiskShare after = world.get(ns, "hot");
      assertThat(LogicalDiskShareIT.condition(after, "Ready").getReason()).isEqualTo("Shared");
      assertThat(after.getStatus().vms).singleElement().satisfies(v -> assertThat(v.disks)
          .extracting(d -> d.generation + " " + d.attached).containsExactly("2 true"));
    });
  }

  private List<Map<String, Object>> disks(String ns) {
    return VirtualDiskIT.vmList(cluster.getVm(ns, "live"), "template", "spec", "domain", "devices", "disks");
  }

  /** KubeVirt's part: the VM's status says whether it runs (and a VMI exists while it does). */
  private void running(String ns, String vm, boolean running) {
    if (running) {
      world.vmi(ns, vm);
    }
    cluster.admin.genericKubernetesResources(TestCluster.VM).inNamespace(ns).withName(vm).editStatus(r -> {
      r.setAdditionalProperty("status", running ? Map.of("ready", true, "printableStatus", "Running")
          : Map.of("ready", false, "printableStatus", "Stopped"));
      return r;
    });
  }
}
