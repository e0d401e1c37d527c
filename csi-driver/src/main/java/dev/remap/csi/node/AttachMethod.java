package dev.remap.csi.node;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How the node plugin turns a served volume into a kernel block device (docs/ARCHITECTURE.md,
 * "Node attach"). The kernel NBD client is preferred: one hop, no FUSE round trip. Without the
 * nbd module, nbdfuse exposes the export as a file and a loop device is put on top of it. Both
 * reach the engine through the plugin's own {@link ReconnectingProxy} (a Java process started
 * from the plugin's class path), so neither needs a tool for it on the host.
 */
public enum AttachMethod {
  NBD_CLIENT("kernel NBD device (nbd-client, through the reconnecting proxy) + losetup loop device"),
  NBDFUSE_LOOP("nbdfuse file (through the reconnecting proxy) + losetup loop device");

  private final String description;

  AttachMethod(String description) {
    this.description = description;
  }

  public String description() {
    return description;
  }

  /** The method this host supports best, or empty when it supports none. */
  public static Optional<AttachMethod> choose(HostFacts host) {
    if (missingFor(NBD_CLIENT, host).isEmpty()) {
      return Optional.of(NBD_CLIENT);
    }
    if (missingFor(NBDFUSE_LOOP, host).isEmpty()) {
      return Optional.of(NBDFUSE_LOOP);
    }
    return Optional.empty();
  }

  /** What this host lacks for the given method, as phrases a user can act on. */
  public static List<String> missingFor(AttachMethod method, HostFacts host) {
    List<String> missing = new ArrayList<>();
    switch (method) {
      case NBD_CLIENT -> {
        if (!host.nbdModuleLoaded() && !host.nbdModuleAvailable()) {
          missing.add("the nbd kernel module (neither loaded nor in /lib/modules of the running kernel)");
        }
        if (!host.nbdClient()) {
          missing.add("the nbd-client command (Debian package nbd-client)");
        }
        missing.addAll(loop(host));
      }
      case NBDFUSE_LOOP -> {
        if (!host.fuseDevice()) {
          missing.add("/dev/fuse (the fuse kernel module)");
        }
        if (!host.nbdfuse()) {
          missing.add("the nbdfuse command (Debian package libnbd-bin)");
        }
        missing.addAll(loop(host));
      }
    }
    return missing;
  }

  /**
   * Both methods hand out a loop device. (HostFacts still reports nbdkit, which devices attached
   * by older plugins run on; new attachments do not need it.)
   */
  private static List<String> loop(HostFacts host) {
    List<String> missing = new ArrayList<>();
    if (!host.loopControl()) {
      missing.add("/dev/loop-control (the loop kernel module)");
    }
    if (!host.losetup()) {
      missing.add("the losetup command (Debian package mount)");
    }
    if (!host.perl()) {
      missing.add("the perl command, which grows loop devices (Debian package perl-base)");
    }
    return missing;
  }
}
