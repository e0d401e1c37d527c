package dev.remap.e2e;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The VM stand-in of the cluster's swap step: the image of {@link VmStandIn} (QEMU under TCG
 * booting the test guest, the PVC as its virtio disk, as virt-launcher gives it) with little RAM
 * and a VmMemorySwap's PVC as its disk, running a guest script that swaps. This class only makes
 * the pod's YAML and reads its log; the test talks to the cluster.
 *
 * <p>The script (as SwapGuestTest's, which measured it against `remap serve`): it turns discard
 * on (a virtio disk says it is rotational, and Linux discards freed swap slots only on a
 * non-rotational device), runs `swapon -d LABEL=...` on the signature the node put on the disk,
 * fills a tmpfs well past its RAM with a random pattern whose checksum is taken from the stream
 * while it is written, and reads it back. It prints
 *
 * <pre>
 * WRITTEN &lt;sha256 of the pattern as written&gt;
 * READBACK &lt;sha256 of the pattern read back, most of it from swap&gt;
 * VMSTAT pswpin=N pswpout=N            (the guest's /proc/vmstat after the read-back)
 * GUEST-EXIT &lt;code&gt;                   (last line, printed by the entrypoint)
 * </pre>
 *
 * and then keeps the VM up for {@link #HOLD_SECONDS}: the node's swap disk lives only while a
 * pod uses the volume (the kubelet unstages it when the pod ends), so that is when the test
 * scrapes the node's counters for it.
 */
final class SwapStandIn {

  /**
   * The least RAM the test guest boots with, plus a little (SwapGuestTest: with 64 to 80 MiB the
   * initramfs does not fit beside the kernel); the guest's kernel sees about 60 MiB of it.
   */
  static final int GUEST_MB = 96;
  /** More than the guest's whole RAM, so that most of it must go to swap. */
  static final int PATTERN_MB = 128;
  /** How long the VM stays up after VMSTAT, with the disk staged, for the test to scrape the node. */
  static final int HOLD_SECONDS = 10;
  /** The guest's own limit: boot, 128 MiB through swap under TCG, the hold. */
  static final int GUEST_TIMEOUT_SECONDS = 420;

  private static final Pattern EXIT = Pattern.compile("(?m)^GUEST-EXIT (\\d+)\\r?$");
  private static final Pattern VMSTAT = Pattern.compile("(?m)^VMSTAT pswpin=(\\d+) pswpout=(\\d+) ?\\r?$");

  /**
   * What the pod's log says.
   *
   * @param guestExit the script's exit code (or the entrypoint's 124 timeout, 125, 126)
   * @param written the pattern's sha256 as written, or null when not printed
   * @param readBack its sha256 as read back, or null
   * @param pswpin pages the guest swapped in (-1 when not printed)
   * @param pswpout pages the guest swapped out (-1 when not printed)
   */
  record Result(int guestExit, String written, String readBack, long pswpin, long pswpout) {}

  private SwapStandIn() {}

  /** Whether the guest has printed its vmstat line, i.e. it swapped and now holds the disk. */
  static boolean swapped(String log) {
    return VMSTAT.matcher(log).find();
  }

  /** Whether the entrypoint has finished (the pod's last line). */
  static boolean finished(String log) {
    return EXIT.matcher(log).find();
  }

  /**
   * A pod (restartPolicy Never, root, not privileged, as {@link VmStandIn#podYaml}) that boots
   * the guest with {@link #GUEST_MB} of RAM on the Block PVC {@code claimName} and runs {@link
   * #guestScript(String)}.
   */
  static String podYaml(String name, String namespace, String image, String claimName, String label) {
    String script = guestScript(label).lines().map(l -> l.isEmpty() ? "" : "        " + l)
        .reduce((a, b) -> a + "\n" + b).orElse("");
    return """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %1$s
          namespace: %2$s
          labels: {app.kubernetes.io/name: remap-vm-standin, remap.dev/guest-script: swap}
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 5
          containers:
          - name: vm
            image: %3$s
            imagePullPolicy: Never
            args: ["%4$s"]
            env:
            - {name: GUEST_MEMORY, value: "%5$d"}
            - {name: GUEST_TIMEOUT, value: "%6$d"}
            - name: GUEST_SCRIPT
              value: |
        %7$s
            resources:
              requests: {cpu: 500m, memory: 512Mi}
            securityContext: {runAsUser: 0, privileged: false, allowPrivilegeEscalation: false}
            volumeDevices: [{name: disk, devicePath: %4$s}]
          volumes:
          - name: disk
            persistentVolumeClaim: {claimName: %8$s}
        """.formatted(name, namespace, image, VmStandIn.DEVICE_PATH, GUEST_MB, GUEST_TIMEOUT_SECONDS, script,
        claimName);
  }

  /** The guest's script (busybox sh, root): swap on by label, a tmpfs pattern out and back in. */
  static String guestScript(String label) {
    return """
        # Remap VM stand-in, SWAP: the disk is a VmMemorySwap's; swap to it under memory pressure.
        set -e
        DISK=$(readlink -f /dev/disk/by-id/virtio-vmdisk 2>/dev/null || true)
        [ -b "$DISK" ] || DISK=/dev/vda
        """ + GuestSwapJob.script(label, PATTERN_MB) + "sleep " + HOLD_SECONDS + "\n";
  }

  /**
   * Reads the pod's log.
   *
   * @throws IllegalArgumentException when it has no GUEST-EXIT line (the entrypoint did not finish)
   */
  static Result parseLog(String log) {
    Matcher exit = EXIT.matcher(log);
    if (!exit.find()) {
      throw new IllegalArgumentException("no 'GUEST-EXIT <code>' line in the stand-in pod's log:\n" + tail(log));
    }
    Matcher vmstat = VMSTAT.matcher(log);
    boolean counted = vmstat.find();
    return new Result(Integer.parseInt(exit.group(1)), sha(log, "WRITTEN"), sha(log, "READBACK"),
        counted ? Long.parseLong(vmstat.group(1)) : -1, counted ? Long.parseLong(vmstat.group(2)) : -1);
  }

  private static String sha(String log, String key) {
    Matcher m = Pattern.compile("(?m)^" + key + " ([0-9a-f]{64})\\r?$").matcher(log);
    return m.find() ? m.group(1) : null;
  }

  static String tail(String log) {
    return log.length() <= 4000 ? log : "..." + log.substring(log.length() - 4000);
  }
}
