package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.LocalCluster;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The user's whole path on a real single-node cluster (e2e/tools/cluster.sh: a kubelet,
 * containerd, kube-proxy), from the images `make images` builds: `helm install` with default
 * values; `kubectl apply` of the examples' VirtualDisks; VM stand-ins (QEMU booting the test
 * guest on the disks as virt-launcher uses them) that write a pattern and an ext4 file, and new
 * ones that read them back; a snapshot and a clone a VM boots from; a consumer writing and
 * verifying through a node-plugin restart and a `helm upgrade`; a VmMemorySwap a VM stand-in
 * swaps to (ClusterSwapScenario); `helm uninstall`; the chart again with its store on S3, and a
 * LogicalDiskShare of a bucket whose disk a VM stand-in mounts and writes to (ClusterShareScenario). The steps build on each other and run in
 * order. Against a kind cluster: e2e/kind.sh.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterUserPathTest {

  private static final String NS = ClusterSession.NS;
  private static final String VMS = ClusterSession.VMS;
  private static final Duration READY = ClusterSession.READY;
  private LocalCluster cluster;
  private ClusterSession k;
  private Path dir;
  private boolean wrote;
  /** The S3 server of the chart installed with an S3 store (steps 11 to 13). */
  private S3ServerProcess s3;

  @BeforeAll
  void startCluster() throws IOException {
    // Warm: only the application layers are redone (seconds); cold: a Debian base with a JRE.
    Proc.run(Duration.ofMinutes(30), RemapPaths.script("images/build.sh").toString()).requireSuccess();
    dir = Files.createTempDirectory("remap-cluster");
    String kubeconfig = System.getenv("REMAP_E2E_KUBECONFIG");
    if (kubeconfig != null) {
      // e2e/kind.sh: the same scenario on a kind cluster it made and loaded the images into.
      cluster = LocalCluster.existing(Path.of(kubeconfig), Path.of("/var/lib/kubelet"), dir);
    } else {
      cluster = LocalCluster.start(dir);
      try (var archives = Files.list(RemapPaths.root().resolve("build/images"))) {
        cluster.load(archives.filter(p -> p.toString().endsWith(".oci.tar")).sorted().toArray(Path[]::new));
      }
    }
    k = new ClusterSession(cluster, dir);
  }

  @AfterAll
  void stopCluster() {
    if (s3 != null) {
      s3.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void helmInstallWithDefaultValuesBringsEveryPodToReady() {
    long start = System.nanoTime();
    // The only values a user of this cluster changes: where its kubelet keeps its state, and where
    // on the node the store and journals live (inside the cluster's folder, removed with it).
    List<String> install = new ArrayList<>(List.of("install", "remap", RemapPaths.root().resolve("helm/remap").toString(),
        "-n", NS, "--create-namespace"));
    install.addAll(k.nodeFolders("remap"));
    if (cluster.owned()) {
      install.addAll(List.of("--set", "store.local.path=" + dir.resolve("remap/store")));
    }
    cluster.helm(Duration.ofMinutes(5), install.toArray(String[]::new)).requireSuccess();
    k.awaitPodsReady(NS);
    System.out.printf("helm install to every pod Ready: %.1f s%n", (System.nanoTime() - start) / 1e9);
    String pods = cluster.kubectl("get", "pods", "-n", NS, "-o", "wide").requireSuccess().output();
    assertThat(pods).contains("remap-operator", "remap-csi-controller", "remap-csi-node", "remap-keeper");
    // The node plugin registered itself with the kubelet: the CSINode lists the driver.
    assertThat(cluster.kubectl("get", "csinode", "-o", "jsonpath={.items[*].spec.drivers[*].name}")
        .requireSuccess().output()).contains("csi.remap.dev");
  }

  @Test
  @Order(2)
  void virtualDisksFromTheExamplesBecomeReady() {
    k.kubectl("create", "namespace", VMS);
    long start = System.nanoTime();
    k.kubectl("apply", "-n", VMS, "-f", RemapPaths.root().resolve("examples/virtualdisk.yaml").toString());
    k.kubectl("apply", "-n", VMS, "-f", RemapPaths.root().resolve("examples/virtualdisk-fs.yaml").toString());
    k.kubectlFor(READY, "wait", "-n", VMS, "--for=condition=Ready", "virtualdisk/data", "virtualdisk/data-fs",
        "--timeout=" + READY.toSeconds() + "s");
    System.out.printf("VirtualDisk apply to Ready (both): %.1f s%n", (System.nanoTime() - start) / 1e9);
    assertThat(k.kubectl("get", "pvc", "-n", VMS, "data", "-o", "jsonpath={.status.phase}")).isEqualTo("Bound");
  }

  /**
   * spec.export runs as a Job on the cluster: the snapshot goes to an S3 server (a process on
   * this host, reached from the pod at the node's address); an import of it becomes a new disk a
   * VM boots from and finds the data on.
   */
  @Test
  @Order(7)
  void anExportJobCopiesASnapshotToS3AndAnImportBringsItBackAsADisk() {
    assertThat(wrote).as("the VMs wrote their disks").isTrue();
    try (S3ServerProcess s3 = S3ServerProcess.startOnAllInterfaces()) {
      s3.createBucket("exports");
      String endpoint = "http://" + k.hostAddress() + ":" + s3.port();
      k.kubectl("create", "secret", "generic", "s3", "-n", VMS,
          "--from-literal=accessKeyId=" + S3ServerProcess.ACCESS_KEY,
          "--from-literal=secretAccessKey=" + S3ServerProcess.SECRET_KEY);
      String storeUri = "s3://exports/data-s1";
      k.kubectl("patch", "virtualdisk", "-n", VMS, "data", "--type", "merge", "-p",
          "{\"spec\":{\"export\":{\"snapshot\":\"s1\",\"storeUri\":\"" + storeUri + "\",\"endpoint\":\""
              + endpoint + "\",\"secretRef\":{\"name\":\"s3\"}}}}");
      k.awaitOutput("the export of data@s1", "Succeeded 100", "get", "virtualdisk", "-n", VMS, "data", "-o",
          "jsonpath={.status.export.phase} {.status.export.percent}");
      k.write(dir.resolve("imported.yaml"), """
          apiVersion: remap.dev/v1alpha1
          kind: VirtualDisk
          metadata: {name: data-imported, namespace: %s}
          spec:
            size: 10Gi
            volumeMode: Block
            source:
              import: {storeUri: "%s", endpoint: "%s", secretRef: {name: s3}}
          """.formatted(VMS, storeUri, endpoint));
      k.kubectl("apply", "-f", dir.resolve("imported.yaml").toString());
      k.kubectlFor(READY, "wait", "-n", VMS, "--for=condition=Ready", "virtualdisk/data-imported",
          "--timeout=" + READY.toSeconds() + "s");
      assertThat(k.kubectl("get", "virtualdisk", "-n", VMS, "data-imported", "-o", "jsonpath={.status.import.phase}"))
          .isEqualTo("Succeeded");
      k.runVmSeeingTheData("vm-imported", "data-imported", VmStandIn.VolumeMode.Block,
          VmStandIn.Script.VERIFY);
    }
  }

  /** Bad input gets a condition that names what is wrong, and the disk waits for it to be fixed. */
  @Test
  @Order(8)
  void aDiskNamingAMissingStorageClassOrVmSaysSo() {
    k.write(dir.resolve("bad.yaml"), """
        apiVersion: remap.dev/v1alpha1
        kind: VirtualDisk
        metadata: {name: no-class, namespace: %1$s}
        spec: {size: 1Gi, storageClassName: fast-ssd}
        ---
        apiVersion: remap.dev/v1alpha1
        kind: VirtualDisk
        metadata: {name: no-vm, namespace: %1$s}
        spec: {size: 1Gi, vm: {name: vm-that-is-not-there}}
        """.formatted(VMS));
    k.kubectl("apply", "-f", dir.resolve("bad.yaml").toString());
    String ready = "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}: "
        + "{.status.conditions[?(@.type==\"Ready\")].message}";
    k.awaitOutput("no-class's Ready condition", "StorageClassNotFound: StorageClass fast-ssd does not exist: install "
        + "Remap's Helm chart or set spec.storageClassName", "get", "virtualdisk", "-n", VMS, "no-class", "-o", ready);
    // This cluster runs no KubeVirt: the disk is bound, and says what it waits for.
    k.awaitOutput("no-vm's Ready condition", "KubeVirtNotInstalled: The disk is bound, but the API server does not "
        + "serve kubevirt.io/v1 VirtualMachines: install KubeVirt", "get", "virtualdisk", "-n", VMS, "no-vm", "-o", ready);
    k.kubectl("delete", "-f", dir.resolve("bad.yaml").toString(), "--wait=true");
  }

  /**
   * A VM stand-in (QEMU under TCG, the PVC given to it as virt-launcher gives it: the block device,
   * or disk.img at the root of a filesystem claim) boots the test guest, which writes a pattern and
   * an ext4 file onto its disk and syncs; each disk gets one.
   */
  @Test
  @Order(3)
  void aVmWritesAPatternAndAnExt4FileOnEachDisk() {
    for (String[] disk : DISKS) {
      k.runVmSeeingTheData("vm-write-" + disk[0], disk[0], VmStandIn.VolumeMode.valueOf(disk[1]),
          VmStandIn.Script.WRITE);
    }
    wrote = true;
  }

  /** The VM pods are gone; a new VM reads everything back from each disk. */
  @Test
  @Order(4)
  void aNewVmReadsEverythingBack() {
    assertThat(wrote).as("the VMs wrote their disks").isTrue();
    for (String[] disk : DISKS) {
      k.runVmSeeingTheData("vm-read-" + disk[0], disk[0], VmStandIn.VolumeMode.valueOf(disk[1]),
          VmStandIn.Script.VERIFY);
    }
  }

  /**
   * A snapshot of the block disk, then writes over the disk, then a clone of the snapshot: a VM
   * booted from the clone sees exactly what was synced before the snapshot.
   */
  @Test
  @Order(5)
  void aVmOnACloneOfASnapshotSeesExactlyWhatWasSyncedBeforeIt() {
    assertThat(wrote).as("the VMs wrote their disks").isTrue();
    k.kubectl("patch", "virtualdisk", "-n", VMS, "data", "--type", "merge", "-p", "{\"spec\":{\"snapshots\":[{\"name\":\"s1\"}]}}");
    k.awaitOutput("virtualdisk/data's snapshot s1 ready", "true", "get", "virtualdisk", "-n", VMS, "data",
        "-o", "jsonpath={.status.snapshots[?(@.name==\"s1\")].readyToUse}");
    // Written after the snapshot, over the pattern and the file system: the clone must not see it.
    String log = k.runPod("overwriter", "data", null, """
        set -e
        head -c 33554432 /dev/urandom | dd of=/dev/xvda bs=1M oflag=direct conv=fsync status=none
        echo "overwritten $(head -c 8388608 /dev/xvda | sha256sum | cut -c1-64)"
        """);
    assertThat(log).contains("overwritten ").doesNotContain(VmStandIn.expectedPatternSha256());
    k.write(dir.resolve("clone.yaml"), """
        apiVersion: remap.dev/v1alpha1
        kind: VirtualDisk
        metadata: {name: data-clone, namespace: %s}
        spec:
          size: 10Gi
          volumeMode: Block
          source:
            snapshot: {virtualDisk: data, name: s1}
        """.formatted(VMS));
    k.kubectl("apply", "-f", dir.resolve("clone.yaml").toString());
    k.kubectlFor(READY, "wait", "-n", VMS, "--for=condition=Ready", "virtualdisk/data-clone",
        "--timeout=" + READY.toSeconds() + "s");
    k.runVmSeeingTheData("vm-clone", "data-clone", VmStandIn.VolumeMode.Block, VmStandIn.Script.VERIFY);
  }

  /** The disks of the examples and how KubeVirt would use each. */
  private static final List<String[]> DISKS = List.of(new String[] {"data", "Block"},
      new String[] {"data-fs", "Filesystem"});

  /**
   * fio writes the block disk without pause and reads back what it wrote (crc32c) all along, while
   * the node plugin's pod is deleted (the DaemonSet brings a new one) and then while `helm upgrade`
   * rolls the node DaemonSet with a changed value: not one I/O error, not one mismatch.
   */
  @Test
  @Order(6)
  void fioVerifiesThroughANodePluginRestartAndAHelmUpgrade() throws Exception {
    String name = "fio";
    k.applyPod(name, VmStandIn.image(k.version()), """
            command: [fio, --name=load, --filename=/dev/xvda, --offset=64M, --size=32M, --rw=write, --bs=64k,
                      --direct=1, --ioengine=psync, --time_based, --runtime=%d, --fsync=8, --verify=crc32c,
                      --verify_backlog=16, --verify_fatal=1, --exitall_on_error, --status-interval=1]
            volumeDevices: [{name: block, devicePath: /dev/xvda}]
        """.formatted(FIO_SECONDS), "data", null);
    k.kubectlFor(READY, "wait", "-n", VMS, "--for=condition=Ready", "pod/" + name, "--timeout=" + READY.toSeconds() + "s");
    long started = System.nanoTime();
    // --status-interval: fio reports its counters every second once it writes.
    k.awaitLog(name, "groupid=0");
    String before = k.nodePluginPod();
    k.kubectl("delete", "pod", "-n", NS, before, "--wait=false");
    k.awaitNewNodePlugin(before);
    String upgraded = k.nodePluginPod();
    cluster.helm(Duration.ofMinutes(5), "upgrade", "remap", RemapPaths.root().resolve("helm/remap").toString(),
        "-n", NS, "--reset-then-reuse-values", "--set", "node.resources.limits.memory=3584Mi").requireSuccess();
    k.awaitNewNodePlugin(upgraded);
    assertThat(k.kubectl("get", "ds", "-n", NS, "remap-csi-node", "-o",
        "jsonpath={.spec.template.spec.containers[0].resources.limits.memory}")).isEqualTo("3584Mi");
    assertThat(System.nanoTime() - started).as("both restarts happened while fio ran")
        .isLessThan(Duration.ofSeconds(FIO_SECONDS - 10).toNanos());
    k.kubectlFor(READY, "wait", "-n", VMS, "--for=jsonpath={.status.phase}=Succeeded", "pod/" + name,
        "--timeout=" + READY.toSeconds() + "s");
    String log = k.kubectl("logs", "-n", VMS, name);
    k.kubectl("delete", "pod", "-n", VMS, name, "--wait=true");
    // Succeeded: fio ends with a failure status on any I/O error or verification mismatch.
    assertThat(log).contains("err= 0").doesNotContain("verify:").doesNotContain("err= 5");
  }

  /**
   * A VmMemorySwap (issue 16) on the chart as installed: the operator's PV (handle swap/NS/NAME)
   * and PVC bind and the disk goes into the VM's spec; a VM stand-in with 96 MiB swaps a 128 MiB
   * tmpfs pattern out to it and back intact; the node's counters (its /metrics) saw every page,
   * spilled past the 64 MiB memory limit, and copied no payload byte in the engine; bad input gets
   * its condition; the disk leaves the node when the VM stops, and deleting the swaps leaves no
   * PV or PVC. Here, unlike with KubeVirt: no KubeVirt runs, so the VM is a VirtualMachine object
   * (KubeVirt's CRDs, installed for this step and removed after it: step 8 expects none) whose
   * spec the operator patches, and the stand-in pod uses the PVC as its virt-launcher would. The
   * node's disk lives while a pod has the volume staged, so it goes when that pod (the VM) goes,
   * not at the swap's deletion (a PVC in use is kept until then). The spill tier is at the
   * default spec.spill.location, /var/lib/remap/swap, which the chart mounts from the node's
   * disk. The stand-in reaches the disk through the node's loop device over nbdfuse and nbdkit,
   * which copy outside the engine: only the engine's bytes_copied is asserted 0. The status
   * counters are not checked here: the operator reads them from the node while the disk is
   * staged, and the stand-in holds it only seconds longer than it swaps, less than a reconcile
   * interval (VmMemorySwapIT checks them against a node plugin's real /metrics text).
   */
  @Test
  @Order(9)
  void aVmMemorySwapIsTheVmsSwapDiskOnTheNodeAndGoesWhenTheVmAndTheSwapDo() {
    long start = System.nanoTime();
    ClusterSwapScenario s = new ClusterSwapScenario(cluster, k, dir);
    String disk = ClusterSwapScenario.disk(ClusterSwapScenario.SWAP);
    k.installKubeVirtCrds();
    s.applyVmAndSwaps();
    String pv = s.assertAttachedThroughItsOwnBoundVolume();
    s.assertBadInputIsNamed();

    ClusterSwapScenario.Run run = s.runGuestAndScrapeTheNode("vm-swap");
    SwapStandIn.Result guest = run.guest();
    assertThat(guest.guestExit()).as(run.log()).isZero();
    assertThat(guest.readBack()).as(run.log()).isNotNull().isEqualTo(guest.written());
    assertThat(guest.pswpout()).as("pages the guest swapped out").isPositive();
    assertThat(guest.pswpin()).as("pages the guest swapped in").isPositive();
    Map<String, Long> node = run.node().disk(disk);
    assertThat(node).as(run.node().text()).containsKeys("swap_outs_total", "bytes_copied_total", "resident_bytes");
    assertThat(node.get("swap_outs_total")).isGreaterThanOrEqualTo(guest.pswpout());
    assertThat(node.get("swap_ins_total")).isGreaterThanOrEqualTo(guest.pswpin());
    assertThat(node.get("bytes_copied_total")).as("payload bytes the engine copied").isZero();
    // More than 64 MiB of the pattern was in swap at once (the guest holds ~60 MiB): spilled and loaded back.
    assertThat(node.get("spill_writes_total")).isPositive();
    assertThat(node.get("spill_loads_total")).isPositive();
    assertThat(node.get("resident_bytes")).isLessThanOrEqualTo(ClusterSwapScenario.MEMORY_LIMIT);
    assertThat(run.node().pool().get("pool_cap_bytes")).as("the chart's swap.poolSize").isEqualTo(1L << 30);
    assertThat(run.node().pool().get("pool_reserved_bytes")).isEqualTo(ClusterSwapScenario.MEMORY_LIMIT);

    ClusterSwapScenario.NodeSwap after = s.awaitDiskGone(disk);
    assertThat(after.pool().get("pool_reserved_bytes")).as("the pool's memory back").isZero();
    String ghostPv = k.kubectl("get", "vmmemoryswap", "-n", VMS, ClusterSwapScenario.GHOST, "-o",
        "jsonpath={.status.volumeName}");
    s.deleteSwaps(pv, ghostPv);
    assertThat(s.vm("{.spec.template.spec.domain.devices.disks[*].name}")).isEqualTo("root");
    s.deleteVm();
    k.removeKubeVirtCrds();
    System.out.printf("VmMemorySwap step: %.1f s (guest pswpout=%d pswpin=%d; node %s)%n",
        (System.nanoTime() - start) / 1e9, guest.pswpout(), guest.pswpin(), node);
  }

  /** Long enough for a plugin restart and a rolling update of the node DaemonSet (about 40 s together here). */
  private static final int FIO_SECONDS = 100;

  @Test
  @Order(10)
  void helmUninstallLeavesNoRemapPod() {
    // Nothing crash-looped along the way: no container restarted but the node plugin's, which
    // the restart step replaced on purpose.
    assertThat(k.kubectl("get", "pods", "-n", NS, "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[*].restartCount}{\"\\n\"}{end}")
        .lines().filter(l -> !l.matches(".* 0( 0)*")).toList()).isEmpty();
    k.kubectl("delete", "-n", VMS, "virtualdisk", "--all", "--wait=true", "--timeout=120s");
    k.kubectlFor(Duration.ofMinutes(3), "wait", "-n", VMS, "--for=delete", "pvc", "--all", "--timeout=150s");
    cluster.helm(Duration.ofMinutes(3), "uninstall", "remap", "-n", NS, "--wait", "--timeout", "150s").requireSuccess();
    k.kubectlFor(Duration.ofMinutes(3), "wait", "-n", NS, "--for=delete", "pod", "--all", "--timeout=150s");
    assertThat(k.kubectl("get", "pods", "-n", NS, "-o", "name")).isEmpty();
    // Reclaim policy Delete: the disks' PersistentVolumes went with their claims.
    assertThat(k.kubectl("get", "pv", "-o", "name")).isEmpty();
  }

  /**
   * Beyond one node: the same chart with the store on S3 (an S3 server process on this host,
   * credentials in a Secret the values name): the controller and operator run as non-root, a disk
   * is provisioned into the bucket, a pod writes and reads it. The chart stays installed for the
   * next step.
   */
  @Test
  @Order(11)
  void theChartWithAnS3StoreServesDisksFromTheBucket() {
    s3 = S3ServerProcess.startOnAllInterfaces();
    s3.createBucket("remap-volumes");
    cluster.kubectl("create", "namespace", NS); // kept by the uninstall above, or new
    cluster.kubectl("create", "namespace", VMS); // made by step 2 (the steps from here also run alone)
    k.kubectl("create", "secret", "generic", "remap-s3", "-n", NS,
        "--from-literal=accessKeyId=" + S3ServerProcess.ACCESS_KEY,
        "--from-literal=secretAccessKey=" + S3ServerProcess.SECRET_KEY);
    List<String> install = new ArrayList<>(List.of("install", "remap", RemapPaths.root().resolve("helm/remap").toString(),
        "-n", NS, "-f", RemapPaths.root().resolve("examples/s3-values.yaml").toString(),
        "--set", "store.s3.endpoint=http://" + k.hostAddress() + ":" + s3.port()));
    install.addAll(k.nodeFolders("remap-s3"));
    cluster.helm(Duration.ofMinutes(5), install.toArray(String[]::new)).requireSuccess();
    k.awaitPodsReady(NS);
    assertThat(k.kubectl("get", "deploy", "-n", NS, "remap-csi-controller", "-o",
        "jsonpath={.spec.template.spec.securityContext.runAsUser}{.spec.template.spec.containers[0].securityContext.runAsUser}"))
        .contains("65532");
    k.kubectl("apply", "-n", VMS, "-f", RemapPaths.root().resolve("examples/virtualdisk.yaml").toString());
    k.kubectlFor(READY, "wait", "-n", VMS, "--for=condition=Ready", "virtualdisk/data",
        "--timeout=" + READY.toSeconds() + "s");
    String log = k.runPod("s3-writer", "data", null, """
        set -e
        head -c 8388608 /dev/urandom > /tmp/pattern
        dd if=/tmp/pattern of=/dev/xvda bs=1M oflag=direct conv=fsync status=none
        echo "wrote $(sha256sum < /tmp/pattern | cut -c1-64)"
        echo "read $(head -c 8388608 /dev/xvda | sha256sum | cut -c1-64)"
        """);
    assertThat(log.lines().filter(l -> l.startsWith("wrote ")).map(l -> l.substring(6)).findFirst())
        .isPresent().get().isEqualTo(log.lines().filter(l -> l.startsWith("read ")).map(l -> l.substring(5))
            .findFirst().orElse("no read line"));
    try (var volumes = Files.list(s3.dataDir().resolve("remap-volumes"))) {
      assertThat(volumes.toList()).as("the volume's objects in the bucket").isNotEmpty();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    k.kubectl("delete", "-n", VMS, "virtualdisk", "--all", "--wait=true", "--timeout=120s");
  }

  /**
   * A LogicalDiskShare (issue 15) on the chart with the S3 store, from examples/logicaldiskshare.yaml:
   * the user's bucket (on the same S3 server, reached by the agent pod over the pod network) holds
   * Photos and Texts folders; the share gives the VM its Photos disk (the VM's spec gets the PVC);
   * a VM stand-in boots the test guest on that PVC as virt-launcher would, mounts the disk by its
   * label and sees exactly the bucket's photos (odd names included), writes a file and syncs; the
   * file reaches the bucket with the same bytes and the share counts one upload; deleting the
   * share takes its disk out of the VM and leaves no PVC, PV or agent, and nothing of it in the store.
   */
  @Test
  @Order(12)
  void aLogicalDiskShareGivesAVmTheBucketsPhotosAndSendsBackWhatItWrites() {
    long start = System.nanoTime();
    ClusterShareScenario share = new ClusterShareScenario(k, dir, s3);
    Map<String, String> photos = share.fillBucket();
    share.applyVmAndShare();
    String pvc = share.assertReadyWithTheVmsDisk();
    long ready = System.nanoTime();
    Map<String, String> seen = share.runGuestOnThePhotosDisk(pvc);
    assertThat(seen).as("the files the guest listed on the disk labelled Photos").isEqualTo(photos);
    byte[] sent = share.awaitTheGuestsFileInTheBucket();
    assertThat(new String(sent, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(ClusterShareScenario.VM_FILE_TEXT);
    k.awaitOutput("the share's upload counted, nothing pending", "1 0", "get", "lds", "-n", VMS,
        ClusterShareScenario.SHARE, "-o", "jsonpath={.status.counters.uploaded} {.status.pendingUploads}");
    share.deleteShareAndVm(pvc, "remap-volumes");
    System.out.printf("LogicalDiskShare step: %.1f s (Ready after %.1f s)%n", (System.nanoTime() - start) / 1e9,
        (ready - start) / 1e9);
  }

  @Test
  @Order(13)
  void uninstallingTheS3ChartLeavesNoPod() {
    cluster.helm(Duration.ofMinutes(3), "uninstall", "remap", "-n", NS, "--wait", "--timeout", "150s").requireSuccess();
    k.kubectlFor(Duration.ofMinutes(3), "wait", "-n", NS, "--for=delete", "pod", "--all", "--timeout=150s");
    assertThat(k.kubectl("get", "pods", "-n", NS, "-o", "name")).isEmpty();
  }
}
