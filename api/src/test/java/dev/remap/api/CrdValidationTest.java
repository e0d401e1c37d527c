package dev.remap.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The committed CRDs on a real kube-apiserver: they install, every spec in the table of bad
 * specs is refused by the API server itself with a message naming the field, the valid ones
 * are accepted, update rules (immutability, grow-only size) hold, and kubectl shows the
 * printer columns.
 */
@ExtendWith(ControlPlaneExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrdValidationTest {

  private static final String NS = "crd-validation";
  private ControlPlane cp;

  @TempDir
  Path dir;

  @BeforeAll
  void installCrds(ControlPlane controlPlane) {
    cp = controlPlane;
    cp.kubectl("apply", "--server-side", "--force-conflicts", "-f", RemapPaths.root().resolve("crds").toString())
        .requireSuccess();
    cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/virtualdisks.remap.dev",
        "crd/logicaldiskshares.remap.dev", "crd/vmmemoryswaps.remap.dev").requireSuccess();
    cp.ensureNamespace(NS);
  }

  static final String DISK = "VirtualDisk";
  static final String SHARE = "LogicalDiskShare";
  static final String SWAP = "VmMemorySwap";
  static final String SHARE_CLOUD = "cloud: {bucket: photos, secretRef: {name: s3}}";
  static final String SHARE_ALLOC = "allocation: [{vmNames: [vm-a, vm-b], disks: [all]}]";

  static Stream<Arguments> badSpecs() {
    return Stream.of(
        bad(DISK, "{vm: {name: vm1}}", "spec.size: Required value"),
        bad(DISK, "{size: \"0\"}", "spec.size must be a positive whole number of bytes"),
        bad(DISK, "{size: -1Gi}", "spec.size must be a positive whole number of bytes"),
        bad(DISK, "{size: \"1.5\"}", "spec.size must be a positive whole number of bytes"),
        bad(DISK, "{size: ten}", "spec.size must be a positive whole number of bytes"),
        bad(DISK, "{size: 1073741824}", "spec.size: Invalid value: \"integer\""),
        bad(DISK, "{size: \"" + "1".repeat(40) + "\"}", "spec.size: Too long"),
        bad(DISK, "{size: \"10000\"}", "spec.size must be a multiple of the block size"),
        bad(DISK, "{size: \"1536\", parameters: {blockSize: 4096}}", "spec.size must be a multiple of the block size"),
        bad(DISK, "{size: 1Gi, parameters: {blockSize: 1024}}", "spec.parameters.blockSize must be 512 or 4096"),
        bad(DISK, "{size: 1Gi, parameters: {chunkSize: 3Mi}}", "spec.parameters.chunkSize must be a power of two from 64Ki to 64Mi"),
        bad(DISK, "{size: 1Gi, parameters: {chunkSize: 128Mi}}", "spec.parameters.chunkSize must be a power of two from 64Ki to 64Mi"),
        bad(DISK, "{size: 1Gi, parameters: {ramCacheSize: \"-1\"}}", "spec.parameters.ramCacheSize must be a whole number of bytes"),
        bad(DISK, "{size: 1Gi, volumeMode: Raw}", "spec.volumeMode: Unsupported value: \"Raw\""),
        bad(DISK, "{size: 1Gi, accessMode: ReadWriteSometimes}", "spec.accessMode: Unsupported value"),
        bad(DISK, "{size: 1Gi, storageClassName: Bad_Class}", "spec.storageClassName in body should match"),
        bad(DISK, "{size: 1Gi, vm: {serial: abc}}", "spec.vm.name: Required value"),
        bad(DISK, "{size: 1Gi, vm: {name: vm1, serial: abcdefghijklmnopqrstu}}", "spec.vm.serial: Too long: may not be more than 20"),
        bad(DISK, "{size: 1Gi, vm: {name: vm1, serial: \"disk/1\"}}", "spec.vm.serial in body should match"),
        bad(DISK, "{size: 1Gi, vm: {name: vm1, bus: ide}}", "spec.vm.bus: Unsupported value: \"ide\""),
        bad(DISK, "{size: 1Gi, vm: {name: vm1, bus: sata, hotplug: true}}", "spec.vm.hotplug needs spec.vm.bus virtio or scsi"),
        bad(DISK, "{size: 1Gi, source: {}}", "spec.source must set exactly one of snapshot, virtualDisk or import"),
        bad(DISK, "{size: 1Gi, source: {virtualDisk: {name: a}, snapshot: {virtualDisk: b, name: s}}}",
            "spec.source must set exactly one of snapshot, virtualDisk or import"),
        bad(DISK, "{size: 1Gi, source: {import: {storeUri: \"http://x/y\"}}}", "spec.source.import.storeUri in body should match"),
        bad(DISK, "{size: 1Gi, source: {snapshot: {virtualDisk: a}}}", "spec.source.snapshot.name: Required value"),
        bad(DISK, "{size: 1Gi, snapshots: [{name: s1}, {name: s1}]}", "spec.snapshots names must be unique"),
        bad(DISK, "{size: 1Gi, snapshots: [{name: S_1}]}", "spec.snapshots[0].name in body should match"),
        bad(DISK, "{size: 1Gi, snapshots: [{name: s1}], export: {snapshot: s2, storeUri: \"s3://b/p\"}}",
            "spec.export.snapshot must name one of spec.snapshots"),
        bad(DISK, "{size: 1Gi, export: {snapshot: s1, storeUri: \"s3://b/p\"}}", "spec.export.snapshot must name one of spec.snapshots"),

        bad(SHARE, "{" + SHARE_ALLOC + "}", "spec.cloud: Required value"),
        bad(SHARE, "{cloud: {bucket: photos}, " + SHARE_ALLOC + "}", "spec.cloud.secretRef: Required value"),
        bad(SHARE, "{cloud: {bucket: Photos_1, secretRef: {name: s3}}, " + SHARE_ALLOC + "}", "spec.cloud.bucket in body should match"),
        bad(SHARE, "{" + SHARE_CLOUD + ", cloud: {bucket: photos, secretRef: {name: s3}, endpoint: \"ftp://x\"}, " + SHARE_ALLOC + "}",
            "spec.cloud.endpoint in body should match"),
        bad(SHARE, "{" + SHARE_CLOUD + "}", "spec.allocation: Required value"),
        bad(SHARE, "{" + SHARE_CLOUD + ", allocation: []}", "spec.allocation: Invalid value: 0: spec.allocation in body should have at least 1 items"),
        bad(SHARE, "{" + SHARE_CLOUD + ", allocation: [{disks: [all]}]}", "each spec.allocation entry must set exactly one of vmSelector or vmNames"),
        bad(SHARE, "{" + SHARE_CLOUD + ", allocation: [{vmNames: [a], vmSelector: {matchLabels: {team: a}}, disks: [all]}]}",
            "each spec.allocation entry must set exactly one of vmSelector or vmNames"),
        bad(SHARE, "{" + SHARE_CLOUD + ", split: {mode: byDataType}, " + SHARE_ALLOC + "}",
            "spec.split.dataTypes must be given when, and only when, spec.split.mode is byDataType"),
        bad(SHARE, "{" + SHARE_CLOUD + ", split: {dataTypes: [{name: images, extensions: [jpg]}]}, " + SHARE_ALLOC + "}",
            "spec.split.dataTypes must be given when, and only when, spec.split.mode is byDataType"),
        bad(SHARE, "{" + SHARE_CLOUD + ", split: {mode: byDataType, dataTypes: [{name: images, extensions: [.jpg]}]}, "
            + "allocation: [{vmNames: [a], disks: [images]}]}", "spec.split.dataTypes[].extensions must be 1 to 16 characters"),
        bad(SHARE, "{" + SHARE_CLOUD + ", split: {mode: byDataType, dataTypes: [{name: images, extensions: [jpg]}]}, "
            + "allocation: [{vmNames: [a], disks: [videos]}]}", "spec.allocation[].disks must be 'all' or groups of spec.split"),
        bad(SHARE, "{" + SHARE_CLOUD + ", allocation: [{vmNames: [a], disks: [images]}]}",
            "spec.allocation[].disks must be 'all' or groups of spec.split"),
        bad(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + ", readOnly: true}", "spec.sync.direction must be pull when spec.readOnly is true"),
        bad(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + ", sync: {interval: soon}}", "spec.sync.interval in body should match"),
        bad(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + ", sync: {retryInterval: 0s}}",
            "spec.sync.retryInterval must be at least 100ms"),
        bad(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + ", sync: {interval: 500ms}}", "spec.sync.interval must be at least 1s"),
        bad(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + ", sync: {newGenerations: live}}",
            "spec.sync.newGenerations: Unsupported value"),
        bad(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + ", sync: {direction: sideways}}", "spec.sync.direction: Unsupported value"),
        bad(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + ", filesystem: ntfs}", "spec.filesystem: Unsupported value: \"ntfs\""),
        bad(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + ", freeSpace: lots}", "spec.freeSpace must be a whole number of bytes"),
        bad(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + ", sync: {conflicts: merge}}", "spec.sync.conflicts: Unsupported value"),
        bad(SHARE, "{" + SHARE_CLOUD + ", split: {others: Other Files}, " + SHARE_ALLOC + "}", "spec.split.others in body should match"),
        bad(SHARE, "{" + SHARE_CLOUD + ", split: {mode: byDataType, others: \"\", dataTypes: [{name: images, extensions: [jpg]}]}, "
            + "allocation: [{vmNames: [a], disks: [other]}]}", "spec.allocation[].disks must be 'all' or groups of spec.split"),

        bad(SWAP, "{size: 4Gi, memoryLimit: 1Gi, spill: {size: 8Gi}}", "spec.vmName: Required value"),
        bad(SWAP, "{vmName: vm1, size: \"4097\", memoryLimit: 1Gi, spill: {size: 8Gi}}", "spec.size must be a multiple of the 4096-byte page size"),
        bad(SWAP, "{vmName: vm1, size: 4Gi, memoryLimit: \"0\", spill: {size: 8Gi}}", "spec.memoryLimit must be a positive whole number of bytes"),
        bad(SWAP, "{vmName: vm1, size: 4Gi, memoryLimit: 1Gi}", "spec.size is larger than spec.memoryLimit: give spec.spill"),
        bad(SWAP, "{vmName: vm1, size: 4Gi, memoryLimit: 1Gi, spill: {size: 8Gi, location: var/swap}}", "spec.spill.location in body should match"),
        bad(SWAP, "{vmName: vm1, size: 4Gi, memoryLimit: 1Gi, spill: {}}", "spec.spill.size: Required value"),
        bad(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, format: none, label: data}",
            "spec.label is only for spec.format swap"),
        bad(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, format: ext4}", "spec.format: Unsupported value: \"ext4\""),
        bad(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, label: \"\"}", "spec.label in body should be at least 1 chars long"),
        bad(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, label: a-label-of-17-chr}", "spec.label: Too long"),
        // Nine two-byte characters: short enough in characters, too long for the signature's 16 bytes.
        bad(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, label: \"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"}",
            "spec.label must be at most 16 bytes"),
        bad(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, label: \"my swap\"}", "spec.label in body should match"));
  }

  static Stream<Arguments> goodSpecs() {
    return Stream.of(
        good(DISK, "{size: 10Gi}"),
        good(DISK, "{size: \"1073741824\"}"),
        good(DISK, "{size: \"1536\", parameters: {blockSize: 512, chunkSize: 64Ki, ramCacheSize: \"0\", diskCacheSize: 10Gi}}"),
        good(DISK, "{size: 10Gi, volumeMode: Filesystem, accessMode: ReadWriteMany, storageClassName: fast.remap,"
            + " vm: {name: vm1, serial: \"Data_disk-1.0+x\", bus: scsi, hotplug: true},"
            + " snapshots: [{name: s1}, {name: s2, volumeSnapshotClassName: remap}],"
            + " export: {snapshot: s2, storeUri: \"s3://bucket/exports/d1\", endpoint: \"http://127.0.0.1:9000\", secretRef: {name: s3}}}"),
        good(DISK, "{size: 10Gi, source: {snapshot: {virtualDisk: d1, name: s1}}}"),
        good(DISK, "{size: 10Gi, source: {virtualDisk: {name: d1}}}"),
        good(DISK, "{size: 10Gi, source: {import: {storeUri: \"file:///exports/d1\"}}}"),
        good(SHARE, "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + "}"),
        good(SHARE, "{cloud: {endpoint: \"https://s3.example\", bucket: photos, prefix: team/, region: eu-1, secretRef: {name: s3}},"
            + " split: {mode: byDataType, dataTypes: [{name: images, extensions: [jpg, png]}, {name: docs, extensions: [pdf]}]},"
            + " filesystem: vfat, allocation: [{vmSelector: {matchLabels: {team: a}}, disks: [images, docs]}],"
            + " sync: {direction: pull, interval: 1m30s, retryInterval: 500ms}, readOnly: true}"),
        good(SHARE, "{" + SHARE_CLOUD + ", split: {mode: byFolder}, allocation: [{vmNames: [a, b], disks: [projects]}]}"),
        good(SHARE, "{" + SHARE_CLOUD + ", split: {mode: byDataType, dataTypes: [{name: images, extensions: [jpg]}]},"
            + " allocation: [{vmNames: [a], disks: [images, other]}], freeSpace: 512Mi, sync: {conflicts: vmWins}}"),
        good(SHARE, "{" + SHARE_CLOUD + ", split: {mode: byFolder, others: \"\"}, " + SHARE_ALLOC + ", freeSpace: \"0\"}"),
        good(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi}"),
        good(SWAP, "{vmName: vm1, size: 4Gi, memoryLimit: 1Gi, spill: {size: 8Gi, location: /var/lib/remap/swap}, discard: false}"),
        good(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, format: none}"),
        good(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, format: swap, label: 16-bytes-label-x}"),
        good(SWAP, "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi, label: \"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"}"));
  }

  private static int cases;

  static Arguments bad(String kind, String spec, String expected) {
    return Arguments.of(kind, spec, expected);
  }

  static Arguments good(String kind, String spec) {
    return Arguments.of(kind, spec);
  }

  @ParameterizedTest(name = "{0} {1} is refused: {2}")
  @MethodSource("badSpecs")
  void badSpecIsRefusedByTheApiServer(String kind, String spec, String expected) {
    Proc.Result result = create(kind, "bad-" + (++cases), spec);
    assertThat(result.exitCode()).as("kubectl create of %s %s; output:%n%s", kind, spec, result.output()).isNotZero();
    assertThat(result.output()).contains(expected);
  }

  @ParameterizedTest(name = "{0} {1} is accepted")
  @MethodSource("goodSpecs")
  void goodSpecIsAccepted(String kind, String spec) {
    create(kind, "good-" + (++cases), spec).requireSuccess();
  }

  @Test
  void updatesKeepImmutableFieldsAndSizeOnlyGrows() {
    create(DISK, "grow", "{size: 10Gi, snapshots: [{name: s1}]}").requireSuccess();
    assertThat(patch("vd/grow", "{\"spec\":{\"size\":\"20Gi\"}}").exitCode()).isZero();
    assertRefused(patch("vd/grow", "{\"spec\":{\"size\":\"5Gi\"}}"), "spec.size can only grow");
    assertRefused(patch("vd/grow", "{\"spec\":{\"volumeMode\":\"Filesystem\"}}"), "spec.volumeMode is immutable");
    assertRefused(patch("vd/grow", "{\"spec\":{\"storageClassName\":\"other\"}}"), "spec.storageClassName is immutable");
    assertRefused(patch("vd/grow", "{\"spec\":{\"parameters\":{\"blockSize\":512}}}"), "spec.parameters.blockSize is immutable");
    assertRefused(patch("vd/grow", "{\"spec\":{\"source\":{\"virtualDisk\":{\"name\":\"x\"}}}}"),
        "spec.source cannot be added or removed after the disk is created");
    // Cache sizes, the VM and the snapshots may change.
    assertThat(patch("vd/grow", "{\"spec\":{\"parameters\":{\"ramCacheSize\":\"1Gi\"},\"vm\":{\"name\":\"vm2\"},"
        + "\"snapshots\":[{\"name\":\"s1\"},{\"name\":\"s2\"}]}}").exitCode()).isZero();

    create(SWAP, "fixed", "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi}").requireSuccess();
    assertRefused(patch("vmswap/fixed", "{\"spec\":{\"memoryLimit\":\"2Gi\"}}"), "spec of a VmMemorySwap is immutable");
    assertRefused(patch("vmswap/fixed", "{\"spec\":{\"vmName\":\"vm2\"}}"), "spec of a VmMemorySwap is immutable");

    create(DISK, "cloned", "{size: 10Gi, source: {virtualDisk: {name: grow}}}").requireSuccess();
    assertRefused(patch("vd/cloned", "{\"spec\":{\"source\":{\"virtualDisk\":{\"name\":\"other\"}}}}"), "spec.source is immutable");
  }

  @Test
  void defaultsAreFilledInByTheApiServer() {
    create(DISK, "defaults", "{size: 10Gi, vm: {name: vm1}}").requireSuccess();
    String spec = cp.kubectl("get", "vd/defaults", "-n", NS, "-o", "jsonpath={.spec}").requireSuccess().output();
    assertThat(spec).contains("\"volumeMode\":\"Block\"", "\"accessMode\":\"ReadWriteOnce\"", "\"storageClassName\":\"remap\"",
        "\"blockSize\":4096", "\"chunkSize\":\"1Mi\"", "\"bus\":\"virtio\"", "\"hotplug\":false");
    create(SWAP, "defaults", "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi}").requireSuccess();
    String swap = cp.kubectl("get", "vmswap/defaults", "-n", NS, "-o", "jsonpath={.spec}").requireSuccess().output();
    // The label's default (remap-swap) is the operator's: a structural one would also land on format none.
    assertThat(swap).contains("\"format\":\"swap\"", "\"discard\":true").doesNotContain("label");
  }

  @Test
  void kubectlGetShowsThePrinterColumns() {
    create(DISK, "columns", "{size: 10Gi, vm: {name: vm1}}").requireSuccess();
    cp.kubectl("patch", "vd/columns", "-n", NS, "--subresource=status", "--type=merge", "-p",
        "{\"status\":{\"phase\":\"Bound\",\"pvcName\":\"columns-pvc\",\"serial\":\"rmp-123\","
            + "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"WaitingForVm\",\"message\":\"m\","
            + "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}").requireSuccess();
    String table = cp.kubectl("get", "vd", "columns", "-n", NS).requireSuccess().output();
    assertThat(table.lines().findFirst().orElseThrow().split("\\s+")).containsExactly("NAME", "AGE", "SIZE", "VM", "READY", "PHASE");
    assertThat(table).containsPattern("columns\\s+\\S+\\s+10Gi\\s+vm1\\s+False\\s+Bound");
    String wide = cp.kubectl("get", "virtualdisks", "columns", "-n", NS, "-o", "wide").requireSuccess().output();
    assertThat(wide).contains("PVC", "SERIAL", "columns-pvc", "rmp-123");

    create(SHARE, "columns", "{" + SHARE_CLOUD + ", " + SHARE_ALLOC + "}").requireSuccess();
    cp.kubectl("patch", "lds/columns", "-n", NS, "--subresource=status", "--type=merge", "-p",
        "{\"status\":{\"connected\":true,\"diskCount\":2,\"vmCount\":3,\"pendingUploads\":7,\"generation\":4}}")
        .requireSuccess();
    String shares = cp.kubectl("get", "lds", "-n", NS).requireSuccess().output();
    assertThat(shares.lines().findFirst().orElseThrow().split("\\s+"))
        .contains("NAME", "READY", "CONNECTED", "DISKS", "VMS", "PENDING", "LAST", "SYNC", "AGE").doesNotContain("BUCKET");
    assertThat(shares).containsPattern("columns\\s+.*true\\s+2\\s+.*7\\s+3");
    String sharesWide = cp.kubectl("get", "lds", "columns", "-n", NS, "-o", "wide").requireSuccess().output();
    assertThat(sharesWide.lines().findFirst().orElseThrow()).contains("BUCKET", "GENERATION");
    create(SWAP, "columns", "{vmName: vm1, size: 1Gi, memoryLimit: 1Gi}").requireSuccess();
    assertThat(cp.kubectl("get", "vmswap", "-n", NS).requireSuccess().output())
        .contains("NAME", "VM", "SIZE", "MEMORY LIMIT", "READY", "AGE").containsPattern("columns\\s+.*vm1");
    cp.kubectl("patch", "vmswap/columns", "-n", NS, "--subresource=status", "--type=merge", "-p",
        "{\"status\":{\"residentBytes\":4096,\"spilledBytes\":8192}}").requireSuccess();
    String swapWide = cp.kubectl("get", "vmswap", "columns", "-n", NS, "-o", "wide").requireSuccess().output();
    assertThat(swapWide.lines().findFirst().orElseThrow()).contains("RESIDENT", "SPILLED");
    assertThat(swapWide).containsPattern("columns\\s+.*4096\\s+8192");
  }

  private Proc.Result create(String kind, String name, String spec) {
    Path file = Manifests.write(dir, kind + "-" + name, Manifests.of(kind, NS, name, spec));
    return cp.kubectl("create", "-f", file.toString());
  }

  private Proc.Result patch(String resource, String mergePatch) {
    return cp.kubectl("patch", resource, "-n", NS, "--type=merge", "-p", mergePatch);
  }

  private static void assertRefused(Proc.Result result, String expected) {
    assertThat(result.exitCode()).as("refused: %s", result.output()).isNotZero();
    assertThat(result.output()).contains(expected);
  }
}
