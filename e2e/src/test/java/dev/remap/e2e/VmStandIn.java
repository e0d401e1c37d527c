package dev.remap.e2e;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pod that uses a PVC the way KubeVirt's virt-launcher does: the image
 * `localhost/remap-vm-standin` (images/build.sh) boots the test guest under QEMU/TCG with the
 * volume as its virtio disk (a Block PVC's device, or `disk.img` at the root of a Filesystem PVC,
 * created sparse when missing) and runs a guest script whose result is the pod's exit code; the
 * serial console is the pod's log. This class only makes the pod's YAML and reads its log; the
 * test talks to the cluster.
 *
 * <p>The disk, as the guest sees it: [0, 8 MiB) a pattern that {@link #expectedPatternSha256()}
 * recomputes here, [16 MiB, end) an ext4 file system holding `hello.txt` ({@link #FILE_LINE}).
 * {@link Script#WRITE} makes both on whatever the disk held; {@link Script#VERIFY} only reads
 * (the file system through a read-only loop device, after `e2fsck -fn`). Both print, after the
 * data has been synced and the guest's caches dropped, what the disk holds:
 *
 * <pre>
 * PATTERN &lt;sha256 of the first 8 MiB&gt;
 * FILE &lt;sha256 of hello.txt&gt;
 * GUEST-EXIT &lt;the script's exit code&gt;     (last line, printed by the entrypoint)
 * </pre>
 */
final class VmStandIn {

  /** Where a Block PVC's device appears in the pod (the volumeDevices devicePath). */
  static final String DEVICE_PATH = "/dev/xvda";
  /** Where a Filesystem PVC is mounted: virt-launcher's folder for a PVC disk. */
  static final String MOUNT_PATH = "/var/run/kubevirt-private/vmi-disks/disk";
  /** The line of `hello.txt` in the guest-made ext4. */
  static final String FILE_LINE = "hello from the Remap VM stand-in";
  static final long PATTERN_BYTES = 8L << 20;
  static final long FS_OFFSET = 16L << 20;

  // The pattern: 32-byte lines "<seed, 20 chars><line number, 11 digits>\n", so that every
  // 512-byte sector of the 8 MiB is different and a misplaced block changes the checksum.
  private static final String SEED = "remap-vm-standin";
  private static final String LINE_FORMAT = "%-20.20s%011d\n";
  private static final int LINE_BYTES = 32;
  // Given to mkfs.ext4 as its UUID and directory hash seed: making random ones takes it 4 s in
  // the guest under TCG (0.1 s with these).
  private static final String FS_UUID = "7e3a1c52-5d0b-4f6e-9a2d-3b8c4e1f6a90";

  private static final Pattern EXIT = Pattern.compile("(?m)^GUEST-EXIT (\\d+)\\r?$");
  private static final Pattern PATTERN_LINE = Pattern.compile("(?m)^PATTERN ([0-9a-f]{64})\\r?$");
  private static final Pattern FILE = Pattern.compile("(?m)^FILE ([0-9a-f]{64})\\r?$");

  /** Which guest script the pod runs. */
  enum Script {
    /** Writes the pattern and a new ext4 with `hello.txt`, syncs, reads both back. */
    WRITE,
    /** Reads the pattern and `hello.txt` (read-only), e.g. on a clone or a snapshot's restore. */
    VERIFY
  }

  /** The PVC's volumeMode. */
  enum VolumeMode {
    Block,
    Filesystem
  }

  /**
   * What the pod's log says.
   *
   * @param guestExit the guest script's exit code (or the entrypoint's 124 timeout, 125 no
   *     result from the guest, 126 setup error)
   * @param patternSha256 the first 8 MiB's sha256, or null when the guest did not print it
   * @param fileSha256 hello.txt's sha256, or null when the guest did not print it
   */
  record Result(int guestExit, String patternSha256, String fileSha256) {
    /** The script exited 0 and printed both checksums. */
    boolean succeeded() {
      return guestExit == 0 && patternSha256 != null && fileSha256 != null;
    }
  }

  private VmStandIn() {}

  /** The stand-in image of a Remap version, as images/build.sh names it. */
  static String image(String version) {
    return "localhost/remap-vm-standin:" + version;
  }

  /**
   * A pod (restartPolicy Never, root, not privileged: QEMU under TCG needs no /dev/kvm, and the
   * kubelet's device rule for volumeDevices lets root open the block device) that runs {@code
   * script} against the PVC {@code claimName}.
   */
  static String podYaml(String name, String namespace, String image, String claimName, VolumeMode mode,
      Script script) {
    return podYaml(name, namespace, image, claimName, mode, script.name().toLowerCase(Locale.ROOT), guestScript(script));
  }

  /** The same pod running another guest script (busybox sh, root); tag labels the pod. */
  static String podYaml(String name, String namespace, String image, String claimName, VolumeMode mode, String tag,
      String guestScript) {
    boolean block = mode == VolumeMode.Block;
    String disk = block ? DEVICE_PATH : MOUNT_PATH + "/disk.img";
    String volume = block
        ? "volumeDevices: [{name: disk, devicePath: " + DEVICE_PATH + "}]"
        : "volumeMounts: [{name: disk, mountPath: " + MOUNT_PATH + "}]";
    String scriptBlock = guestScript.lines().map(l -> l.isEmpty() ? "" : "        " + l)
        .reduce((a, b) -> a + "\n" + b).orElse("");
    return """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          namespace: %s
          labels: {app.kubernetes.io/name: remap-vm-standin, remap.dev/guest-script: %s}
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 5
          containers:
          - name: vm
            image: %s
            imagePullPolicy: Never
            args: ["%s"]
            env:
            - name: GUEST_SCRIPT
              value: |
        %s
            resources:
              requests: {cpu: 500m, memory: 512Mi}
            securityContext: {runAsUser: 0, privileged: false, allowPrivilegeEscalation: false}
            %s
          volumes:
          - name: disk
            persistentVolumeClaim: {claimName: %s}
        """.formatted(name, namespace, tag, image, disk, scriptBlock,
        volume, claimName);
  }

  /** The guest's script (busybox sh, root) for {@code script}. */
  static String guestScript(Script script) {
    String common = """
        # Remap VM stand-in, %s. Disk: [0, 8 MiB) pattern, [16 MiB, end) ext4 with hello.txt.
        set -e
        DISK=/dev/disk/by-id/virtio-vmdisk
        [ -b "$DISK" ] || DISK=/dev/vda
        echo "DISK $DISK $(blockdev --getsize64 "$DISK") bytes"
        report() {
            sync
            echo 3 > /proc/sys/vm/drop_caches
            echo "PATTERN $(dd if="$DISK" bs=1M count=%d status=none | sha256sum | cut -c1-64)"
            losetup -r -o %d /dev/loop0 "$DISK"
            e2fsck -fn /dev/loop0 > /tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; echo "e2fsck: errors at offset %d"; exit 3; }
            mkdir -p /mnt/vm
            mount -t ext4 -o ro /dev/loop0 /mnt/vm
            echo "FILE $(sha256sum < /mnt/vm/hello.txt | cut -c1-64)"
            umount /mnt/vm
            losetup -d /dev/loop0
        }
        """.formatted(script.name(), PATTERN_BYTES >> 20, FS_OFFSET, FS_OFFSET);
    return switch (script) {
      case VERIFY -> common + "report\n";
      case WRITE -> common + """
          awk 'BEGIN { for (i = 0; i < %d; i++) printf "%s", "%s", i }' > /tmp/pattern
          dd if=/tmp/pattern of="$DISK" bs=1M conv=fsync status=none
          rm /tmp/pattern
          losetup -o %d /dev/loop0 "$DISK"
          mkfs.ext4 -q -F -L standin -U %s -E nodiscard,lazy_itable_init=1,lazy_journal_init=1,hash_seed=%s /dev/loop0
          mkdir -p /mnt/vm
          mount -t ext4 /dev/loop0 /mnt/vm
          echo "%s" > /mnt/vm/hello.txt
          umount /mnt/vm
          losetup -d /dev/loop0
          report
          """.formatted(PATTERN_BYTES / LINE_BYTES, LINE_FORMAT.replace("\n", "\\n"), SEED, FS_OFFSET, FS_UUID, FS_UUID,
              FILE_LINE);
    };
  }

  /**
   * Reads a stand-in pod's log.
   *
   * @throws IllegalArgumentException when the log has no GUEST-EXIT line (the entrypoint did not
   *     finish), or when the script exited 0 without printing both checksums
   */
  static Result parseLog(String log) {
    String exit = last(EXIT, log);
    if (exit == null) {
      throw new IllegalArgumentException("no 'GUEST-EXIT <code>' line in the stand-in pod's log (did it finish?):\n"
          + tail(log));
    }
    Result result = new Result(Integer.parseInt(exit), last(PATTERN_LINE, log), last(FILE, log));
    if (result.guestExit() == 0 && !result.succeeded()) {
      throw new IllegalArgumentException("the guest script exited 0 without printing 'PATTERN <sha256>' and "
          + "'FILE <sha256>':\n" + tail(log));
    }
    return result;
  }

  /** The sha256 of the 8 MiB pattern that {@link Script#WRITE} writes at offset 0. */
  static String expectedPatternSha256() {
    // LINE_FORMAT by hand: String.format for 262,144 lines takes seconds.
    MessageDigest sha = sha256();
    byte[] line = String.format(Locale.ROOT, LINE_FORMAT, SEED, 0).getBytes(StandardCharsets.US_ASCII);
    for (long i = 0; i < PATTERN_BYTES / LINE_BYTES; i++) {
      long n = i;
      for (int p = LINE_BYTES - 2; p >= LINE_BYTES - 12; p--, n /= 10) {
        line[p] = (byte) ('0' + n % 10);
      }
      sha.update(line);
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /** The sha256 of `hello.txt` ({@link #FILE_LINE} and a newline). */
  static String expectedFileSha256() {
    return HexFormat.of().formatHex(sha256().digest((FILE_LINE + "\n").getBytes(StandardCharsets.US_ASCII)));
  }

  private static String last(Pattern pattern, String log) {
    Matcher m = pattern.matcher(log);
    String found = null;
    while (m.find()) {
      found = m.group(1);
    }
    return found;
  }

  private static String tail(String log) {
    return log.length() <= 4000 ? log : "..." + log.substring(log.length() - 4000);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JRE has SHA-256", e);
    }
  }
}
