package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import dev.remap.testkit.S3ServerProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * VirtualDisk end to end on a real control plane with the real CSI sidecars in front of the
 * Remap CSI controller: a disk reconciles to a Bound PVC backed by a volume in the store and
 * appears in its VM's spec with its serial; a snapshot request becomes a ready VolumeSnapshot;
 * disks cloned from the snapshot and from the disk bind; deleting detaches and the garbage
 * collector, the provisioner and the snapshotter clean up down to the store.
 */
@ExtendWith(ControlPlaneExtension.class)
class OperatorCsiEndToEndTest {

  static final Duration WAIT = Duration.ofMinutes(3);
  static final String NS = "e2e-operator";

  @Test
  void aVirtualDiskIsProvisionedAttachedSnapshottedClonedAndCleanedUp(ControlPlane cp, @TempDir Path dir) {
    try (OperatorStack stack = OperatorStack.start(cp, dir)) {
      cp.ensureNamespace(NS);
      stack.apply(cp, "vm", """
          apiVersion: kubevirt.io/v1
          kind: VirtualMachine
          metadata: {name: vm1, namespace: %s}
          spec:
            runStrategy: Halted
            template:
              spec:
                domain: {devices: {disks: [{name: root, disk: {bus: virtio}}]}}
                volumes: [{name: root, containerDisk: {image: example/root}}]
          """.formatted(NS));
      stack.apply(cp, "d1", """
          apiVersion: remap.dev/v1alpha1
          kind: VirtualDisk
          metadata: {name: d1, namespace: %s}
          spec: {size: 1Gi, vm: {name: vm1}, snapshots: [{name: s1}]}
          """.formatted(NS));

      await(stack, "d1 Attached with snapshot s1 ready", () ->
          "Attached".equals(get(cp, "vd/d1", "{.status.phase}"))
              && "true".equals(get(cp, "vd/d1", "{.status.snapshots[0].readyToUse}")));
      String handle = get(cp, "vd/d1", "{.status.volumeHandle}");
      String serial = get(cp, "vd/d1", "{.status.serial}");
      assertThat(handle).isNotBlank().isEqualTo(get(cp, "pv/" + get(cp, "pvc/d1", "{.spec.volumeName}"), "{.spec.csi.volumeHandle}"));
      assertThat(get(cp, "pv/" + get(cp, "pvc/d1", "{.spec.volumeName}"), "{.spec.csi.driver}")).isEqualTo(OperatorStack.DRIVER);
      assertThat(stack.storeVolumes()).contains(handle);
      assertThat(get(cp, "vm/vm1", "{.spec.template.spec.volumes[1].persistentVolumeClaim.claimName}")).isEqualTo("d1");
      assertThat(get(cp, "vm/vm1", "{.spec.template.spec.domain.devices.disks[1].serial}")).isEqualTo(serial).hasSize(20);
      assertThat(get(cp, "volumesnapshot/d1-s1", "{.status.readyToUse}")).isEqualTo("true");

      stack.apply(cp, "clones", """
          apiVersion: remap.dev/v1alpha1
          kind: VirtualDisk
          metadata: {name: from-snapshot, namespace: %s}
          spec: {size: 1Gi, source: {snapshot: {virtualDisk: d1, name: s1}}}
          ---
          apiVersion: remap.dev/v1alpha1
          kind: VirtualDisk
          metadata: {name: from-disk, namespace: %s}
          spec: {size: 1Gi, source: {virtualDisk: {name: d1}}}
          """.formatted(NS, NS));
      await(stack, "both clones Bound", () -> "Bound".equals(get(cp, "vd/from-snapshot", "{.status.phase}"))
          && "Bound".equals(get(cp, "vd/from-disk", "{.status.phase}")));
      assertThat(get(cp, "pvc/from-snapshot", "{.spec.dataSource.kind}")).isEqualTo("VolumeSnapshot");
      assertThat(get(cp, "pvc/from-disk", "{.spec.dataSource.kind}")).isEqualTo("PersistentVolumeClaim");
      assertThat(stack.storeVolumes()).contains(get(cp, "vd/from-snapshot", "{.status.volumeHandle}"),
          get(cp, "vd/from-disk", "{.status.volumeHandle}"));

      // A disk of its own shape: the driver reads the PVC's annotations the operator wrote.
      stack.apply(cp, "shaped", """
          apiVersion: remap.dev/v1alpha1
          kind: VirtualDisk
          metadata: {name: shaped, namespace: %s}
          spec: {size: 64Mi, parameters: {blockSize: 512, chunkSize: 256Ki, ramCacheSize: 64Mi, diskCacheSize: 1Gi}}
          """.formatted(NS));
      await(stack, "the shaped disk Bound", () -> "Bound".equals(get(cp, "vd/shaped", "{.status.phase}")));
      String shaped = get(cp, "vd/shaped", "{.status.volumeHandle}");
      assertThat(stack.storeVolumes().lines().filter(l -> l.startsWith(shaped + " ")).findFirst().orElseThrow())
          .contains("block  512").contains("chunk  256K");
      String pv = "pv/" + get(cp, "pvc/shaped", "{.spec.volumeName}");
      assertThat(get(cp, pv, "{.spec.csi.volumeAttributes.ramCacheSize}")).isEqualTo(Long.toString(64L << 20));
      assertThat(get(cp, pv, "{.spec.csi.volumeAttributes.diskCacheSize}")).isEqualTo(Long.toString(1L << 30));

      cp.kubectl("delete", "-n", NS, "vd", "from-snapshot", "from-disk", "d1", "shaped", "--timeout=120s")
          .requireSuccess();
      await(stack, "PVCs, PVs and VolumeSnapshots gone", () ->
          cp.kubectl("get", "pvc,volumesnapshot", "-n", NS, "-o", "name").requireSuccess().output().isBlank()
              && cp.kubectl("get", "pv", "-o", "name").requireSuccess().output().isBlank());
      assertThat(get(cp, "vm/vm1", "{.spec.template.spec.volumes[*].name}")).isEqualTo("root");
      await(stack, "the store holds no volume", () -> !stack.storeVolumes().contains(handle));
    }
  }

  /**
   * spec.export: data written to a disk, a snapshot of it, and the export of that snapshot to
   * another store (an S3 server, credentials from a Secret) by the operator's Job (whose pod the
   * test plays with the real `./remap export`, TransferJobPart); the export, imported
   * into a fresh store with `./remap import`, reads back what was written. Then
   * spec.source.import: a new disk made from that export by the operator's import Job (played
   * the same way) holds the same data.
   */
  @Test
  void anExportedSnapshotCarriesTheDisksDataToAnotherStoreAndBackAsADisk(ControlPlane cp, @TempDir Path dir) {
    try (OperatorStack stack = OperatorStack.start(cp, dir); S3ServerProcess s3 = S3ServerProcess.start(dir.resolve("s3"))) {
      s3.createBucket("exports");
      cp.ensureNamespace(NS);
      cp.kubectl("create", "secret", "generic", "s3", "-n", NS, "--from-literal=accessKeyId=" + S3ServerProcess.ACCESS_KEY,
          "--from-literal=secretAccessKey=" + S3ServerProcess.SECRET_KEY).requireSuccess();
      stack.apply(cp, "exported", """
          apiVersion: remap.dev/v1alpha1
          kind: VirtualDisk
          metadata: {name: exported, namespace: %s}
          spec: {size: 64Mi}
          """.formatted(NS));
      await(stack, "the disk Bound", () -> "Bound".equals(get(cp, "vd/exported", "{.status.phase}")));
      String handle = get(cp, "vd/exported", "{.status.volumeHandle}");

      // What a VM would have written: 1 MiB of 0xab at 4 MiB, through an NBD server of its own.
      RemapServe.qemuIo("file://" + stack.store, dir, "writer", handle, false, "write -P 0xab 4M 1M", "flush");

      cp.kubectl("patch", "vd", "exported", "-n", NS, "--type", "merge", "-p", """
          {"spec": {"snapshots": [{"name": "v1"}],
                    "export": {"snapshot": "v1", "storeUri": "s3://exports/disks/exported",
                               "endpoint": "%s", "secretRef": {"name": "s3"}}}}
          """.formatted(s3.endpoint())).requireSuccess();
      // The export runs as a Job in remap-system; no kubelet runs here, so the test plays its pod.
      await(stack, "the export Job", () -> !get(cp, "vd/exported", "{.status.export.jobName}").isBlank());
      String exportJob = get(cp, "vd/exported", "{.status.export.jobName}");
      assertThat(get(cp, "vd/exported", "{.status.conditions[?(@.type==\"Progressing\")].reason}")).isEqualTo("Exporting");
      assertThat(TransferJobPart.play(cp, exportJob, dir)).contains("done copied=");
      await(stack, "the export done", () -> "Succeeded".equals(get(cp, "vd/exported", "{.status.export.phase}")));
      assertThat(Long.parseLong(get(cp, "vd/exported", "{.status.export.bytes}"))).isGreaterThan(1 << 20);
      assertThat(get(cp, "vd/exported", "{.status.export.percent}")).isEqualTo("100");
      await(stack, "the export Job deleted once recorded",
          () -> cp.kubectl("get", "job", exportJob, "-n", TransferJobPart.SYSTEM).exitCode() != 0);
      assertThat(get(cp, "vd/exported", "{.status.export.completionTime}")).isNotBlank();
      assertThat(get(cp, "vd/exported", "{.status.conditions[?(@.type==\"Degraded\")].status}")).isEqualTo("False");
      // What the writer served is in the volume's lease, carried on by the controller's snapshot.
      await(stack, "status.io of the written MiB", () ->
          get(cp, "vd/exported", "{.status.io.writtenBytes}").matches("\\d+")
              && Long.parseLong(get(cp, "vd/exported", "{.status.io.writtenBytes}")) >= 1 << 20);
      assertThat(Long.parseLong(get(cp, "vd/exported", "{.status.io.writes}"))).isPositive();

      Path check = dir.resolve("check");
      Proc.run(WAIT, S3ServerProcess.credentialsEnv(),
          List.of(RemapPaths.root().resolve("remap").toString(), "import", "--store", "file://" + check,
              "--journal", dir.resolve("import-journal").toString(),
              "--from", s3.storeUri("exports", "disks/exported"), "restored")).requireSuccess();
      String restored = RemapServe.qemuIo("file://" + check, dir, "reader", "restored", true,
          "read -P 0xab 4M 1M", "read -P 0 0 4M");
      assertThat(restored).doesNotContain("Pattern verification failed").contains("read 1048576/1048576");

      // The same export brought back as a disk by the operator: spec.source.import.
      stack.apply(cp, "imported", """
          apiVersion: remap.dev/v1alpha1
          kind: VirtualDisk
          metadata: {name: imported, namespace: %s}
          spec:
            size: 128Mi
            source: {import: {storeUri: "s3://exports/disks/exported", endpoint: "%s", secretRef: {name: s3}}}
          """.formatted(NS, s3.endpoint()));
      await(stack, "the import Job", () -> !get(cp, "vd/imported", "{.status.import.jobName}").isBlank());
      TransferJobPart.play(cp, get(cp, "vd/imported", "{.status.import.jobName}"), dir);
      await(stack, "the imported disk Bound", () -> "Bound".equals(get(cp, "vd/imported", "{.status.phase}")));
      assertThat(get(cp, "vd/imported", "{.status.import.phase}")).isEqualTo("Succeeded");
      String imported = get(cp, "vd/imported", "{.status.volumeHandle}");
      assertThat(imported).startsWith("remap-import-").isEqualTo(get(cp, "pvc/imported", "{.spec.volumeName}"));
      assertThat(stack.storeVolumes()).contains(imported);
      String read = RemapServe.qemuIo("file://" + stack.store, dir, "imported", imported, true,
          "read -P 0xab 4M 1M", "read -P 0 100M 1M");
      assertThat(read).doesNotContain("Pattern verification failed").contains("read 1048576/1048576");
      assertThat(RemapServe.run("file://" + stack.store, dir, "imported", imported, uri -> List.of("qemu-img", "info", uri)))
          .as("grown to spec.size").contains("virtual size: 128 MiB");
      // Both disks go, and everything they made with them (the control plane outlives this test).
      cp.kubectl("delete", "-n", NS, "vd", "imported", "exported", "--timeout=120s").requireSuccess();
      await(stack, "the imported volume deleted with its disk", () ->
          cp.kubectl("get", "pv", imported).exitCode() != 0 && !stack.storeVolumes().contains(imported));
      await(stack, "PVCs, PVs and VolumeSnapshots gone", () ->
          cp.kubectl("get", "pvc,volumesnapshot", "-n", NS, "-o", "name").requireSuccess().output().isBlank()
              && cp.kubectl("get", "pv", "-o", "name").requireSuccess().output().isBlank());
      cp.kubectl("delete", "secret", "s3", "-n", NS).requireSuccess();
    }
  }

  /**
   * spec.vm.hotplug on a running VM, through KubeVirt's real virt-api behind the apiserver's
   * aggregation layer. With DeclarativeHotplugVolumes, addvolume puts the disk in the VM's spec
   * and removevolume takes it out when the disk is deleted. With HotplugVolumes, virt-api leaves
   * the request in the VM's status for virt-controller (not run here): the disk says so, asks
   * only once, and its deletion waits while the request could still plug the PVC in, until the
   * VM is gone. The VM's "running" status is written by the test, standing in for virt-controller.
   */
  @Test
  void aRunningVmGetsItsDiskThroughKubeVirtsAddvolumeAndLosesItThroughRemovevolume(ControlPlane cp, @TempDir Path dir) {
    try (OperatorStack stack = OperatorStack.start(cp, dir)) {
      cp.ensureNamespace(NS);
      stack.apply(cp, "live", """
          apiVersion: kubevirt.io/v1
          kind: VirtualMachine
          metadata: {name: live, namespace: %s}
          spec:
            runStrategy: Always
            template:
              spec:
                domain: {devices: {disks: [{name: root, disk: {bus: virtio}}]}, resources: {requests: {memory: 64Mi}}}
                volumes: [{name: root, containerDisk: {image: example/root}}]
          """.formatted(NS));
      cp.kubectl("patch", "vm", "live", "-n", NS, "--subresource=status", "--type=merge",
          "-p", "{\"status\":{\"ready\":true,\"printableStatus\":\"Running\"}}").requireSuccess();

      try (VirtApi kubevirt = VirtApi.start(cp, dir, "DeclarativeHotplugVolumes")) {
        stack.apply(cp, "hot1", """
            apiVersion: remap.dev/v1alpha1
            kind: VirtualDisk
            metadata: {name: hot1, namespace: %s}
            spec: {size: 64Mi, vm: {name: live, hotplug: true, bus: scsi}}
            """.formatted(NS));
        await(stack, "hot1 Attached", () -> "Attached".equals(get(cp, "vd/hot1", "{.status.phase}")));
        String serial = get(cp, "vd/hot1", "{.status.serial}");
        assertThat(get(cp, "vm/live", "{.spec.template.spec.volumes[1]}"))
            .as("virt-api marks what it hot-plugged").contains("\"claimName\":\"hot1\"", "\"hotpluggable\":true");
        assertThat(get(cp, "vm/live", "{.spec.template.spec.domain.devices.disks[1].serial}")).isEqualTo(serial).hasSize(20);
        assertThat(get(cp, "vm/live", "{.spec.template.spec.domain.devices.disks[1].disk.bus}")).isEqualTo("scsi");
        assertThat(kubevirt.requests("/live/addvolume", 202)).as(kubevirt.log()).isEqualTo(1);

        cp.kubectl("delete", "vd", "hot1", "-n", NS, "--timeout=120s").requireSuccess();
        assertThat(get(cp, "vm/live", "{.spec.template.spec.volumes[*].name}")).isEqualTo("root");
        assertThat(get(cp, "vm/live", "{.spec.template.spec.domain.devices.disks[*].name}")).isEqualTo("root");
        assertThat(kubevirt.requests("/live/removevolume", 202)).as(kubevirt.log()).isEqualTo(1);
      }

      try (VirtApi kubevirt = VirtApi.start(cp, dir, "HotplugVolumes")) {
        stack.apply(cp, "hot2", """
            apiVersion: remap.dev/v1alpha1
            kind: VirtualDisk
            metadata: {name: hot2, namespace: %s}
            spec: {size: 64Mi, vm: {name: live, hotplug: true}}
            """.formatted(NS));
        String ready = "{.status.conditions[?(@.type==\"Ready\")].reason}";
        await(stack, "hot2's hotplug pending", () -> "HotplugPending".equals(get(cp, "vd/hot2", ready)));
        String request = "{.status.volumeRequests[0].addVolumeOptions";
        assertThat(get(cp, "vm/live", request + ".volumeSource.persistentVolumeClaim.claimName}")).isEqualTo("hot2");
        assertThat(get(cp, "vm/live", request + ".disk.serial}")).isEqualTo(get(cp, "vd/hot2", "{.status.serial}"));
        assertThat(get(cp, "vd/hot2", "{.status.attachedTo}")).isEqualTo("live");
        assertThat(get(cp, "vm/live", "{.spec.template.spec.volumes[*].name}")).isEqualTo("root");

        // Rechecks (every 10 s) must not ask again: KubeVirt refuses a second request as a duplicate.
        // Nothing to wait for here (the point is that nothing happens): sleep past one recheck.
        sleep(Duration.ofSeconds(12));
        assertThat(get(cp, "vd/hot2", ready)).isEqualTo("HotplugPending");
        assertThat(get(cp, "vd/hot2", "{.status.conditions[?(@.type==\"Degraded\")].status}")).isEqualTo("False");
        assertThat(get(cp, "vm/live", "{.status.volumeRequests[*].addVolumeOptions.name}")).isEqualTo("remap-hot2");
        assertThat(kubevirt.requests("/live/addvolume", 202)).as(kubevirt.log()).isEqualTo(1);

        cp.kubectl("delete", "vd", "hot2", "-n", NS, "--wait=false").requireSuccess();
        // The operator's finalizer has seen the deletion and decided to wait for KubeVirt.
        await(stack, "hot2's cleanup waiting for its VM",
            () -> stack.logs().contains("VirtualDisk " + NS + "/hot2 waits to leave its VM"));
        assertThat(get(cp, "vd/hot2", "{.metadata.deletionTimestamp}"))
            .as("held by its finalizer while KubeVirt may still plug it in").isNotBlank();
        assertThat(get(cp, "pvc/hot2", "{.metadata.name}")).isEqualTo("hot2");
        cp.kubectl("delete", "vm", "live", "-n", NS, "--timeout=60s").requireSuccess();
        await(stack, "hot2 and its PVC gone with the VM", () -> cp.kubectl("get", "vd/hot2", "-n", NS).exitCode() != 0
            && cp.kubectl("get", "pvc", "-n", NS, "-o", "name").requireSuccess().output().isBlank());
      }
    }
  }

  private static String get(ControlPlane cp, String resource, String jsonpath) {
    Proc.Result r = cp.kubectl("get", resource, "-n", NS, "-o", "jsonpath=" + jsonpath);
    return r.exitCode() == 0 ? r.output().trim() : "";
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void await(OperatorStack stack, String what, Supplier<Boolean> condition) {
    Instant deadline = Instant.now().plus(WAIT);
    while (!condition.get()) {
      assertThat(Instant.now()).as("%s within %s; processes said:%n%s", what, WAIT, stack.logs()).isBefore(deadline);
      sleep(Duration.ofMillis(500));
    }
  }
}
