package dev.remap.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.remap.api.disk.VirtualDisk;
import dev.remap.operator.status.Conditions;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operator dies (SIGKILL) in the middle of work and another process converges from what is
 * in the API server alone; a standby replica takes over through the leader Lease.
 */
@ExtendWith(ControlPlaneExtension.class)
class OperatorRestartIT {

  static final Duration WAIT = Duration.ofSeconds(120);

  static boolean attached(VirtualDisk d) {
    return d != null && d.getStatus() != null && "Attached".equals(d.getStatus().phase)
        && Conditions.isTrue(d.getStatus().conditions, "Ready");
  }

  @Test
  void killedMidReconcileItConvergesAfterARestart(ControlPlane cp) {
    TestCluster cluster = TestCluster.of(cp);
    String ns = "it-crash";
    String sc = "it-crash-remap";
    int disks = 16;
    cluster.namespace(ns);
    cluster.storageClass(sc);
    cluster.virtualMachine(ns, "vm");
    for (int i = 0; i < disks; i++) {
      cluster.preBoundVolume(ns, "d" + i, sc, "1Gi", "vol-crash-" + i);
      cluster.disk(ns, "d" + i, "{size: 1Gi, storageClassName: " + sc + ", vm: {name: vm}}");
    }

    OperatorProcess first = OperatorProcess.start(cluster.operatorKubeconfig, "it-crash");
    try {
      // Kill it as soon as it has started writing statuses, while most disks are still in flight.
      await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(() -> disksWithStatus(cluster, ns) > 0);
      first.kill();
    } finally {
      first.close();
    }
    long attachedAtKill = cluster.admin.resources(VirtualDisk.class).inNamespace(ns).list().getItems().stream()
        .filter(OperatorRestartIT::attached).count();
    assertThat(attachedAtKill).as("the kill came mid-way (attached when killed)").isLessThan(disks);

    try (OperatorProcess second = OperatorProcess.start(cluster.operatorKubeconfig, "it-crash")) {
      await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
          assertThat(cluster.admin.resources(VirtualDisk.class).inNamespace(ns).list().getItems())
              .hasSize(disks).allMatch(OperatorRestartIT::attached));
      // Exactly one PVC, one VM volume and one VM disk per VirtualDisk: nothing done twice.
      List<PersistentVolumeClaim> pvcs = cluster.admin.persistentVolumeClaims().inNamespace(ns).list().getItems();
      assertThat(pvcs).hasSize(disks).allSatisfy(p -> assertThat(p.getMetadata().getOwnerReferences()).hasSize(1));
      var vm = cluster.getVm(ns, "vm");
      List<Map<String, Object>> volumes = VirtualDiskIT.vmList(vm, "template", "spec", "volumes");
      List<Map<String, Object>> vmDisks = VirtualDiskIT.vmList(vm, "template", "spec", "domain", "devices", "disks");
      assertThat(volumes).hasSize(disks + 1).extracting(v -> v.get("name")).doesNotHaveDuplicates();
      assertThat(vmDisks).hasSize(disks + 1).extracting(v -> v.get("serial")).doesNotHaveDuplicates();
    }
  }

  @Test
  void aStandbyReplicaTakesOverWhenTheLeaderDies(ControlPlane cp) {
    TestCluster cluster = TestCluster.of(cp);
    String ns = "it-leader";
    cluster.namespace(ns);
    OperatorProcess leader = OperatorProcess.start(cluster.operatorKubeconfig, "it-leader-a").awaitReady(WAIT);
    try (OperatorProcess standby = OperatorProcess.start(cluster.operatorKubeconfig, "it-leader-b")) {
      await().atMost(WAIT).until(() -> "it-leader-a".equals(holder(cluster)));
      // The standby is up (live) but does not reconcile while the other one leads.
      await().atMost(WAIT).until(() -> {
        var live = standby.get("/q/health/live");
        return live != null && live.statusCode() == 200;
      });
      cluster.disk(ns, "before", "{size: 1Gi, storageClassName: it-leader-none}");
      await().atMost(WAIT).until(() -> hasStatus(cluster.getDisk(ns, "before")));
      assertThat(standby.output()).doesNotContain("New leader with identity: it-leader-b");

      leader.kill();
      cluster.disk(ns, "after", "{size: 1Gi, storageClassName: it-leader-none}");
      // The Lease expires (15 s) and the standby takes the work over.
      await().atMost(WAIT).until(() -> "it-leader-b".equals(holder(cluster)));
      await().atMost(WAIT).until(() -> hasStatus(cluster.getDisk(ns, "after")));
      assertThat(cluster.getDisk(ns, "after").getStatus().conditions).anySatisfy(c ->
          assertThat(c.getReason()).isEqualTo("StorageClassNotFound"));
    } finally {
      leader.close();
    }
  }

  private static String holder(TestCluster cluster) {
    Lease lease = cluster.admin.leases().inNamespace("remap-system").withName("remap-operator").get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  private static boolean hasStatus(VirtualDisk d) {
    return d != null && d.getStatus() != null && d.getStatus().observedGeneration != null;
  }

  private static long disksWithStatus(TestCluster cluster, String ns) {
    return cluster.admin.resources(VirtualDisk.class).inNamespace(ns).list().getItems().stream()
        .filter(OperatorRestartIT::hasStatus).count();
  }
}
