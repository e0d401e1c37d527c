package dev.remap.e2e;

/**
 * The guest's side of the swap tests (SwapGuestTest, and the cluster's swap stand-in): with the
 * swap disk's device in the shell variable DISK, turn discard on (a virtio disk says it is
 * rotational, and Linux discards freed swap slots only on a non-rotational one, as a VM's udev
 * rule would say), swap on by label, and push a random pattern through a tmpfs larger than the
 * guest's RAM. The pattern's checksum is taken from the stream while it is written (WRITTEN), so
 * that it does not depend on the swapped copy, and again from the file once all of it was
 * written, when most of it is on the swap disk (READBACK); then the guest's swap counters (VMSTAT).
 */
final class GuestSwapJob {

  private GuestSwapJob() {}

  /** busybox sh lines; DISK must be set before them. */
  static String script(String label, int patternMb) {
    return """
        echo 0 > /sys/block/${DISK#/dev/}/queue/rotational
        swapon -d LABEL=%1$s
        grep -q "^$DISK " /proc/swaps
        mkdir -p /big && mount -t tmpfs -o size=512M tmpfs /big
        echo "WRITTEN $(dd if=/dev/urandom bs=1M count=%2$d 2>/dev/null | tee /big/pattern | sha256sum | cut -d' ' -f1)"
        [ "$(stat -c %%s /big/pattern)" = %3$d ]
        echo "READBACK $(sha256sum /big/pattern | cut -d' ' -f1)"
        echo "VMSTAT $(awk '$1 == "pswpin" || $1 == "pswpout" { printf "%%s=%%s ", $1, $2 }' /proc/vmstat)"
        """.formatted(label, patternMb, (long) patternMb << 20);
  }
}
