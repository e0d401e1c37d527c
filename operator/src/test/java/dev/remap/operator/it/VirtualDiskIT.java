package dev.remap.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.share.LogicalDiskShare;
import dev.remap.operator.status.Conditions;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The packaged operator, running as its ServiceAccount, against a real kube-apiserver and
 * kube-controller-manager: a disk's life from "no StorageClass" to "attached to its VM" and
 * back, a user's PVC that must not be adopted, a share refused for want of a store, and the
 * operator's health and metrics endpoints.
 */
@ExtendWith(ControlPlaneExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VirtualDiskIT {

  static final Duration WAIT = Duration.ofSeconds(90);
  private TestCluster cluster;
  private OperatorProcess operator;

  @BeforeAll
  void startOperator(ControlPlane cp) {
    cluster = TestCluster.of(cp);
    operator = OperatorProcess.start(cluster.operatorKubeconfig, "it-main").awaitReady(Duration.ofMinutes(2));
  }

  @AfterAll
  void stopOperator() {
    if (operator != null) {
      operator.close();
    }
  }

  static Condition condition(VirtualDisk d, String type) {
    return d == null || d.getStatus() == null ? null : Conditions.find(d.getStatus().conditions, type).orElse(null);
  }

  private VirtualDisk awaitReason(String ns, String name, String type, String reason) {
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      Condition c = condition(cluster.getDisk(ns, name), type);
      assertThat(c).as("%s condition of %s/%s", type, ns, name).isNotNull();
      assertThat(c.getReason()).as("%s: %s", type, c.getMessage()).isEqualTo(reason);
    });
    return cluster.getDisk(ns, name);
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> vmList(GenericKubernetesResource vm, String... path) {
    Object o = vm.getAdditionalProperties().get("spec");
    for (String p : path) {
      o = ((Map<String, Object>) o).get(p);
    }
    return (List<Map<String, Object>>) o;
  }

  @Test
  void aDiskWaitsForItsClassThenItsVolumeThenItsVmAndIsAttachedUntilDeleted() {
    String ns = "it-flow";
    String sc = "it-flow-remap";
    cluster.namespace(ns);
    cluster.disk(ns, "d1", "{size: 2Gi, storageClassName: " + sc + ", vm: {name: vm1}}");

    VirtualDisk disk = awaitReason(ns, "d1", "Progressing", "StorageClassNotFound");
    assertThat(condition(disk, "Ready").getStatus()).isEqualTo("False");
    assertThat(condition(disk, "Progressing").getMessage()).contains("StorageClass " + sc + " does not exist");
    assertThat(condition(disk, "Progressing").getObservedGeneration()).isEqualTo(disk.getMetadata().getGeneration());
    assertThat(disk.getMetadata().getFinalizers()).isNotEmpty();
    PersistentVolumeClaim pvc = cluster.admin.persistentVolumeClaims().inNamespace(ns).withName("d1").get();
    assertThat(pvc.getSpec().getStorageClassName()).isEqualTo(sc);
    assertThat(pvc.getSpec().getVolumeMode()).isEqualTo("Block");
    assertThat(pvc.getMetadata().getAnnotations()).containsEntry("remap.dev/block-size", "4096");
    OwnerReference owner = pvc.getMetadata().getOwnerReferences().get(0);
    assertThat(owner.getUid()).isEqualTo(disk.getMetadata().getUid());
    assertThat(owner.getKind()).isEqualTo("VirtualDisk");
    assertThat(owner.getController()).isTrue();

    cluster.storageClass(sc);
    disk = awaitReason(ns, "d1", "Progressing", "WaitingForVolume");
    assertThat(disk.getStatus().phase).isEqualTo("Provisioning");
    await().atMost(WAIT).untilAsserted(() -> assertThat(condition(cluster.getDisk(ns, "d1"), "Progressing").getMessage())
        .contains("PersistentVolumeClaim d1 is Pending", "external provisioner 'csi.remap.dev'"));

    cluster.preBoundVolume(ns, "d1", sc, "2Gi", "vol-it-flow-d1");
    disk = awaitReason(ns, "d1", "Progressing", "VirtualMachineNotFound");
    assertThat(disk.getStatus().volumeHandle).isEqualTo("vol-it-flow-d1");
    assertThat(disk.getStatus().capacity).isEqualTo("2Gi");
    assertThat(disk.getStatus().phase).isEqualTo("Bound");

    cluster.virtualMachine(ns, "vm1");
    disk = awaitReason(ns, "d1", "Ready", "Attached");
    assertThat(condition(disk, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(disk, "Progressing").getStatus()).isEqualTo("False");
    assertThat(disk.getStatus().attachedTo).isEqualTo("vm1");
    String serial = disk.getStatus().serial;
    assertThat(serial).hasSize(20).isEqualTo(disk.getMetadata().getUid().replace("-", "").substring(0, 20));

    GenericKubernetesResource vm = cluster.getVm(ns, "vm1");
    assertThat(vmList(vm, "template", "spec", "volumes")).extracting(v -> v.get("name")).containsExactly("root", "remap-d1");
    assertThat(vmList(vm, "template", "spec", "volumes").get(1).get("persistentVolumeClaim"))
        .isEqualTo(Map.of("claimName", "d1"));
    assertThat(vmList(vm, "template", "spec", "domain", "devices", "disks").get(1))
        .containsEntry("name", "remap-d1").containsEntry("serial", serial).containsEntry("disk", Map.of("bus", "virtio"));
    assertThat(Serialization.asJson(vm.getAdditionalProperties().get("spec")))
        .contains("\"someFutureField\":{\"keep\":\"me\"}", "\"bootOrder\":1", "\"masquerade\":{}");

    assertThat(cluster.cp.kubectl("get", "vd", "d1", "-n", ns).requireSuccess().output())
        .containsPattern("d1\\s+\\S+\\s+2Gi\\s+vm1\\s+True\\s+Attached");
    assertThat(cluster.cp.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=d1,involvedObject.kind=VirtualDisk")
        .requireSuccess().output()).contains("StorageClassNotFound", "WaitingForVolume", "Attached");

    // Deleting the disk: the finalizer takes it out of the VM, then the garbage collector
    // (kube-controller-manager) deletes the PVC it owned.
    cluster.admin.resources(VirtualDisk.class).inNamespace(ns).withName("d1").delete();
    await().atMost(WAIT).until(() -> cluster.getDisk(ns, "d1") == null);
    GenericKubernetesResource after = cluster.getVm(ns, "vm1");
    assertThat(vmList(after, "template", "spec", "volumes")).extracting(v -> v.get("name")).containsExactly("root");
    assertThat(vmList(after, "template", "spec", "domain", "devices", "disks")).extracting(v -> v.get("name"))
        .containsExactly("root");
    assertThat(Serialization.asJson(after.getAdditionalProperties().get("spec"))).contains("\"someFutureField\":{\"keep\":\"me\"}");
    await().atMost(WAIT).until(() -> cluster.admin.persistentVolumeClaims().inNamespace(ns).withName("d1").get() == null);
  }

  @Test
  void aUsersOwnPvcOfTheSameNameIsNeverAdopted() {
    String ns = "it-foreign";
    cluster.namespace(ns);
    cluster.admin.persistentVolumeClaims().inNamespace(ns).resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName("mine").endMetadata()
        .withNewSpec().withAccessModes("ReadWriteOnce").withStorageClassName("someone-elses")
        .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
    cluster.disk(ns, "mine", "{size: 1Gi}");
    VirtualDisk disk = awaitReason(ns, "mine", "Degraded", "PvcConflict");
    assertThat(condition(disk, "Degraded").getMessage()).contains("PersistentVolumeClaim mine already exists");
    assertThat(disk.getStatus().phase).isEqualTo("Failed");

    cluster.admin.resources(VirtualDisk.class).inNamespace(ns).withName("mine").delete();
    await().atMost(WAIT).until(() -> cluster.getDisk(ns, "mine") == null);
    PersistentVolumeClaim pvc = cluster.admin.persistentVolumeClaims().inNamespace(ns).withName("mine").get();
    assertThat(pvc).as("the user's PVC survives the disk").isNotNull();
    assertThat(pvc.getMetadata().getOwnerReferences()).isEmpty();
    assertThat(pvc.getSpec().getStorageClassName()).isEqualTo("someone-elses");
    assertThat(pvc.getMetadata().getAnnotations()).doesNotContainKey("remap.dev/block-size");
  }

  @Test
  void snapshotsWithoutTheSnapshotApiAreReportedNotFaked() {
    String ns = "it-snap";
    String sc = "it-snap-remap";
    cluster.namespace(ns);
    cluster.storageClass(sc);
    cluster.preBoundVolume(ns, "d", sc, "1Gi", "vol-it-snap-d");
    cluster.disk(ns, "d", "{size: 1Gi, storageClassName: " + sc + ", snapshots: [{name: monday}]}");
    VirtualDisk disk = awaitReason(ns, "d", "Degraded", "SnapshotFailed");
    assertThat(condition(disk, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(disk, "Ready").getReason()).isEqualTo("Bound");
    assertThat(disk.getStatus().snapshots).singleElement().satisfies(s -> {
      assertThat(s.name).isEqualTo("monday");
      assertThat(s.readyToUse).isFalse();
      assertThat(s.error).contains("VolumeSnapshot API (snapshot.storage.k8s.io/v1) is not installed");
    });
  }

  @Test
  void aShareWithoutAStoreSaysSoAndIsNeverReady() {
    String ns = "it-share-nostore";
    cluster.namespace(ns);
    cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).resource(Serialization.unmarshal("""
        apiVersion: remap.dev/v1alpha1
        kind: LogicalDiskShare
        metadata: {name: photos}
        spec:
          cloud: {bucket: photos, secretRef: {name: s3}}
          allocation: [{vmNames: [a, b], disks: [all]}]
        """, LogicalDiskShare.class)).create();
    await().atMost(WAIT).untilAsserted(() -> {
      LogicalDiskShare share = cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).withName("photos").get();
      var status = share.getStatus();
      assertThat(status).isNotNull();
      // This operator runs without REMAP_STORE: a share has nowhere to keep its disks.
      assertThat(Conditions.find(status.conditions, "Degraded").orElseThrow().getReason()).isEqualTo("StoreNotConfigured");
      assertThat(Conditions.find(status.conditions, "Degraded").orElseThrow().getMessage()).contains("REMAP_STORE");
      assertThat(Conditions.isTrue(status.conditions, "Degraded")).isTrue();
      assertThat(Conditions.isTrue(status.conditions, "Ready")).isFalse();
      assertThat(status.observedGeneration).isEqualTo(1L);
    });
  }

  @Test
  void healthAndPrometheusMetricsAreServed() {
    HttpResponse<String> live = operator.get("/q/health/live");
    assertThat(live.statusCode()).isEqualTo(200);
    HttpResponse<String> ready = operator.get("/q/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("virtualdisk", "logicaldiskshare", "vmmemoryswap");
    await().atMost(WAIT).untilAsserted(() -> {
      HttpResponse<String> metrics = operator.get("/q/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("# TYPE", "operator_sdk_", "jvm_memory_used_bytes");
    });
  }
}
