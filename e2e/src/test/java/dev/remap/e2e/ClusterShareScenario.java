package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.RemapPaths;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What ClusterUserPathTest's LogicalDiskShare step does on its cluster (issue 15), as a user would:
 * a bucket on the test's S3 server holding folders of files (the user's cloud disk), the example
 * examples/logicaldiskshare.yaml applied with kubectl (its endpoint and keys replaced by this
 * server's), a VirtualMachine object the share gives its Photos disk to (KubeVirt's CRDs; no
 * KubeVirt runs here), and a VM stand-in pod that boots the test guest on that PVC the way
 * virt-launcher would, mounts the disk by its label, lists it and writes a file. The agent runs as
 * the operator's Deployment under the real kubelet and reaches the bucket over the pod network.
 */
final class ClusterShareScenario {

  static final String VMS = ClusterSession.VMS;
  static final String NS = ClusterSession.NS;
  /** The example's names. */
  static final String SHARE = "family";
  static final String VM = "desk-1";
  static final String BUCKET = "family-files";
  /** What the guest writes onto its Photos disk; it must appear in the bucket as Photos/NAME. */
  static final String VM_FILE = "from the vm.txt";
  static final String VM_FILE_TEXT = "written in a VM of the share\n";

  private static final Pattern FILE = Pattern.compile("(?m)^FILE ([0-9a-f]{64}) ([0-9a-f]*)\\r?$");
  private static final Duration GUEST_WAIT = Duration.ofMinutes(6);

  private final ClusterSession k;
  private final Path dir;
  private final S3ServerProcess s3;
  private final ShareBucket bucket;

  ClusterShareScenario(ClusterSession k, Path dir, S3ServerProcess s3) {
    this.k = k;
    this.dir = dir;
    this.s3 = s3;
    this.bucket = new ShareBucket(s3, BUCKET, "", dir);
  }

  /**
   * The user's bucket: photos (one in a sub-folder with a Unicode name, one with a space) and a
   * text in another folder, which the Photos disk must not show. Answers the Photos folder's files
   * as the disk must show them: name under Photos/ to SHA-256.
   */
  Map<String, String> fillBucket() {
    s3.createBucket(BUCKET);
    Random random = new Random(15);
    Map<String, byte[]> files = Map.of(
        "Photos/beach day.jpg", bytes(random, 300_000),
        "Photos/2026/\u00e9t\u00e9 \u2600.png", bytes(random, 70_000),
        "Texts/notes.txt", "what to bring\n".getBytes(StandardCharsets.UTF_8));
    files.forEach(bucket::put);
    Map<String, String> photos = new TreeMap<>();
    files.forEach((name, data) -> {
      if (name.startsWith("Photos/")) {
        photos.put(name.substring("Photos/".length()), ShareGuest.sha256(data));
      }
    });
    return photos;
  }

  /** KubeVirt's CRDs, a stopped VM, the cloud's Secret and the share, from the example. */
  void applyVmAndShare() {
    k.installKubeVirtCrds();
    Path vm = dir.resolve("share-vm.yaml");
    ClusterSession.write(vm, ClusterSession.stoppedVmYaml(VMS, VM));
    k.kubectl("apply", "-f", vm.toString());
    String example;
    try {
      example = Files.readString(RemapPaths.root().resolve("examples/logicaldiskshare.yaml"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String applied = example
        .replace("https://s3.example", "http://" + k.hostAddress() + ":" + s3.port())
        .replace("REPLACE-WITH-ACCESS-KEY-ID", S3ServerProcess.ACCESS_KEY)
        .replace("REPLACE-WITH-SECRET-ACCESS-KEY", S3ServerProcess.SECRET_KEY);
    assertThat(applied).as("the example's placeholders").isNotEqualTo(example).doesNotContain("REPLACE-WITH");
    Path share = dir.resolve("share.yaml");
    ClusterSession.write(share, applied);
    k.kubectl("apply", "-n", VMS, "-f", share.toString());
  }

  /**
   * The share becomes Ready and connected; its agent pod runs (never restarted) in the chart's
   * namespace; the VM's spec got the Photos disk's PVC, which is bound to its own PV. Answers the
   * PVC's name.
   */
  String assertReadyWithTheVmsDisk() {
    k.awaitOutput("LogicalDiskShare " + SHARE + " Ready and connected", "True true", "get", "lds", "-n", VMS, SHARE,
        "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status} {.status.connected}");
    String uid = k.kubectl("get", "lds", "-n", VMS, SHARE, "-o", "jsonpath={.metadata.uid}");
    assertThat(k.kubectl("get", "pods", "-n", NS, "-l", "remap.dev/share-uid=" + uid, "-o",
        "jsonpath={range .items[*]}{.status.phase} {.status.containerStatuses[0].restartCount}{\"\\n\"}{end}"))
        .as("the share's agent pod").isEqualTo("Running 0");
    k.awaitOutput("the VM's Photos disk in the share's status", "Photos", "get", "lds", "-n", VMS, SHARE, "-o",
        "jsonpath={.status.vms[?(@.name==\"" + VM + "\")].disks[*].group}");
    String pvc = k.kubectl("get", "lds", "-n", VMS, SHARE, "-o",
        "jsonpath={.status.vms[?(@.name==\"" + VM + "\")].disks[0].pvcName}");
    assertThat(pvc).isNotEmpty();
    k.awaitOutput("the share's PVC bound", "Bound", "get", "pvc", "-n", VMS, pvc, "-o", "jsonpath={.status.phase}");
    k.awaitOutput("the PVC in the VM's spec", pvc, "get", "virtualmachine", "-n", VMS, VM, "-o",
        "jsonpath={.spec.template.spec.volumes[?(@.persistentVolumeClaim.claimName==\"" + pvc + "\")]"
            + ".persistentVolumeClaim.claimName}");
    return pvc;
  }

  /** What the guest saw on the disk labelled Photos (name to SHA-256) after writing {@link #VM_FILE}. */
  Map<String, String> runGuestOnThePhotosDisk(String pvc) {
    String name = "share-vm";
    Path spec = dir.resolve(name + ".yaml");
    ClusterSession.write(spec, VmStandIn.podYaml(name, VMS, VmStandIn.image(k.version()), pvc,
        VmStandIn.VolumeMode.Block, "share", guestScript()));
    k.kubectl("apply", "-f", spec.toString());
    k.kubectlFor(GUEST_WAIT.plusMinutes(1), "wait", "-n", VMS, "--for=jsonpath={.status.phase}=Succeeded",
        "pod/" + name, "--timeout=" + GUEST_WAIT.toSeconds() + "s");
    String log = k.kubectl("logs", "-n", VMS, name);
    k.kubectl("delete", "pod", "-n", VMS, name, "--wait=true");
    assertThat(log).as("the guest's console").contains("GUEST-EXIT 0", "SYNCED");
    Map<String, String> seen = new TreeMap<>();
    Matcher m = FILE.matcher(log);
    while (m.find()) {
      seen.put(new String(HexFormat.of().parseHex(m.group(2)), StandardCharsets.UTF_8), m.group(1));
    }
    return seen;
  }

  /** Waits until the bucket holds the guest's file; its bytes. */
  byte[] awaitTheGuestsFileInTheBucket() {
    long deadline = System.nanoTime() + ClusterSession.READY.toNanos();
    Optional<byte[]> got = bucket.get("Photos/" + VM_FILE);
    while (got.isEmpty() && System.nanoTime() < deadline) {
      ClusterSession.pause(1000);
      got = bucket.get("Photos/" + VM_FILE);
    }
    assertThat(got).as("Photos/%s in the bucket; the share's status: %s", VM_FILE,
        k.kubectl("get", "lds", "-n", VMS, SHARE, "-o", "jsonpath={.status}")).isPresent();
    return got.get();
  }

  /** A status field of the share (a jsonpath under .status). */
  String status(String path) {
    return k.kubectl("get", "lds", "-n", VMS, SHARE, "-o", "jsonpath={.status." + path + "}");
  }

  /**
   * Deletes the share: its disk leaves the VM's spec, its PVCs and PVs and its agent go, and the
   * store (storeBucket on the same S3 server) keeps no disk or record of it; then the VM and
   * KubeVirt's CRDs go (the later steps expect no KubeVirt API).
   */
  void deleteShareAndVm(String pvc, String storeBucket) {
    String uid = k.kubectl("get", "lds", "-n", VMS, SHARE, "-o", "jsonpath={.metadata.uid}");
    // The share's id in the store is lds-UID: its disks (share-lds-UID-...) and its shares/lds-UID/ records.
    assertThat(storeKeysNaming(storeBucket, "lds-" + uid)).as("the share's disks and records in the store")
        .isNotEmpty();
    k.kubectlFor(ClusterSession.READY, "delete", "lds", "-n", VMS, SHARE, "--wait=true",
        "--timeout=" + ClusterSession.READY.toSeconds() + "s");
    assertThat(k.kubectl("get", "virtualmachine", "-n", VMS, VM, "-o",
        "jsonpath={.spec.template.spec.volumes[*].name}")).isEqualTo("root");
    k.awaitOutput("the share's PVC deleted", "", "get", "pvc", "-n", VMS, pvc, "--ignore-not-found", "-o=name");
    k.awaitOutput("the share's PVs deleted", "", "get", "pv", "-l", "remap.dev/share", "-o=name");
    k.awaitOutput("the share's agent gone", "", "get", "pods", "-n", NS, "-l", "remap.dev/share-uid=" + uid, "-o=name");
    assertThat(storeKeysNaming(storeBucket, "lds-" + uid)).as("what the store keeps of the deleted share").isEmpty();
    k.kubectl("delete", "virtualmachine", "-n", VMS, VM, "--wait=true");
    k.removeKubeVirtCrds();
  }

  /** The keys of the store's bucket (read from the S3 server's folder) that contain text. */
  private List<String> storeKeysNaming(String storeBucket, String text) {
    Path root = s3.dataDir().resolve(storeBucket);
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).filter(key -> key.contains(text))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Busybox sh in the guest: find the disk by the share's label (findfs: the guest has no blkid),
   * mount it, list every file as {@code FILE SHA256 HEXNAME} (names hex-encoded: the serial
   * console is not a channel to trust with UTF-8), write {@link #VM_FILE}, sync and unmount.
   */
  private static String guestScript() {
    return """
        # Remap VM stand-in, SHARE: the disk is a LogicalDiskShare's Photos disk.
        set -e
        D=$(findfs LABEL=Photos)
        mkdir -p /mnt/photos
        mount -t ext4 "$D" /mnt/photos
        (cd /mnt/photos && find . -type f | while IFS= read -r f; do
          echo "FILE $(sha256sum "$f" | cut -c1-64) $(printf '%%s' "${f#./}" | od -An -v -tx1 | tr -d ' \\n')"
        done)
        printf '%s' > "/mnt/photos/%s"
        sync
        umount /mnt/photos
        echo SYNCED
        """.formatted(VM_FILE_TEXT.replace("\n", "\\n"), VM_FILE);
  }

  private static byte[] bytes(Random random, int size) {
    byte[] out = new byte[size];
    random.nextBytes(out);
    return out;
  }
}
