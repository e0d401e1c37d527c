package dev.remap.csi.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Mounts on this host, read from /proc/self/mountinfo (the kernel's truth; no cached table), and
 * the mount, bind-mount, mkfs and grow commands the node plugin needs. Stateless.
 */
final class Mounts {

  private Mounts() {}

  /** Is path a mount point (of anything)? */
  static boolean isMountPoint(Path path) throws IOException {
    String target = path.toAbsolutePath().normalize().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] fields = line.split(" ");
      if (fields.length > 4 && unescape(fields[4]).equals(target)) {
        return true;
      }
    }
    return false;
  }

  private static String unescape(String field) {
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
  }

  /** Unmounts every mount stacked on path (a bind mount may have been made twice). */
  static void unmountAll(Path path) throws IOException {
    for (int i = 0; i < 8 && isMountPoint(path); i++) {
      Commands.run("umount", path.toString());
    }
    if (isMountPoint(path)) {
      throw new IOException(path + " is still mounted after unmounting it 8 times");
    }
  }

  /** The filesystem type on a device, or empty when it holds none. */
  static Optional<String> filesystemOf(String device) throws IOException {
    Commands.Result result = Commands.tryRun(60, "blkid", "-p", "-o", "value", "-s", "TYPE", device);
    if (result.exitCode() == 2) {
      return Optional.empty(); // blkid: nothing found
    }
    if (result.exitCode() != 0) {
      throw new IOException("blkid " + device + " failed: " + result.output().strip());
    }
    String type = result.output().strip();
    return type.isEmpty() ? Optional.empty() : Optional.of(type);
  }

  /**
   * Makes a filesystem. No discard pass: a new volume is all holes already, and discarding would
   * send a TRIM of the whole device through the engine for nothing.
   */
  static void makeFilesystem(String device, String fsType) throws IOException {
    switch (fsType) {
      case "ext4", "ext3" -> Commands.run("mkfs." + fsType, "-q", "-F", "-E", "nodiscard", device);
      case "xfs" -> Commands.run("mkfs.xfs", "-q", "-K", device);
      default -> throw new IOException("cannot make a " + fsType + " filesystem");
    }
  }

  static void mount(String device, Path target, String fsType, List<String> flags, boolean readOnly) throws IOException {
    List<String> command = new ArrayList<>(List.of("mount", "-t", fsType));
    List<String> options = new ArrayList<>(flags);
    if (readOnly) {
      options.add("ro");
    }
    if (!options.isEmpty()) {
      command.add("-o");
      command.add(String.join(",", options));
    }
    command.add(device);
    command.add(target.toString());
    Commands.run(command.toArray(String[]::new));
  }

  /** A bind mount of source on target, made read-only by a remount when asked (a bind ignores ro). */
  static void bind(Path source, Path target, boolean readOnly) throws IOException {
    Commands.run("mount", "--bind", source.toString(), target.toString());
    if (readOnly) {
      Commands.run("mount", "-o", "remount,bind,ro", target.toString());
    }
  }

  /**
   * Grows a mounted filesystem to the size of its device. The kernel grows a mounted ext4 only
   * for a process with CAP_SYS_RESOURCE (XFS asks for CAP_SYS_ADMIN, which a node plugin has
   * anyway); without it the error says so, and {@link #growUnmounted} catches up at the next stage.
   */
  static void growFilesystem(String device, Path mountPoint, String fsType) throws IOException {
    switch (fsType) {
      case "ext4", "ext3" -> {
        Commands.Result result = Commands.tryRun(600, "resize2fs", device);
        if (result.exitCode() != 0 && result.output().contains("Permission denied")) {
          throw dev.remap.csi.server.Rpc.failedPrecondition("the device of " + mountPoint + " has grown, but the "
              + "kernel grows a mounted " + fsType + " filesystem only for a process with CAP_SYS_RESOURCE, which "
              + "this node plugin lacks: run it privileged, or unstage and stage the volume to grow it unmounted");
        }
        if (result.exitCode() != 0) {
          throw new IOException("'resize2fs " + device + "' failed (exit " + result.exitCode() + "): "
              + result.output().strip());
        }
      }
      case "xfs" -> Commands.run("xfs_growfs", mountPoint.toString());
      default -> throw new IOException("cannot grow a " + fsType + " filesystem");
    }
  }

  /**
   * Grows an ext filesystem that is not mounted to its device when the device is larger (the
   * volume grew while it was not staged, or its mounted growth was refused). resize2fs wants a
   * fresh check first; e2fsck -p repairs only what is safe without asking (exit 0 or 1: clean or
   * fixed). XFS can only grow mounted, which NodeExpandVolume does.
   */
  static void growUnmounted(String device, String fsType) throws IOException {
    if (!fsType.equals("ext4") && !fsType.equals("ext3")) {
      return;
    }
    long deviceBytes = LoopAttacher.size(device);
    long fsBytes = 0;
    long blockSize = 0;
    for (String line : Commands.run("dumpe2fs", "-h", device).split("\n")) {
      if (line.startsWith("Block count:")) {
        fsBytes = Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
      } else if (line.startsWith("Block size:")) {
        blockSize = Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
      }
    }
    if (blockSize == 0 || fsBytes * blockSize + blockSize > deviceBytes) {
      return; // already as large as the device allows (to the block)
    }
    Commands.Result check = Commands.tryRun(600, "e2fsck", "-f", "-p", device);
    if (check.exitCode() > 1) {
      throw new IOException("'e2fsck -f -p " + device + "' found errors it cannot fix unattended (exit "
          + check.exitCode() + "): " + check.output().strip());
    }
    Commands.run("resize2fs", device);
  }

  /** Total and free inodes of the filesystem at path. */
  static long[] inodes(Path path) throws IOException {
    String[] fields = Commands.run("stat", "-f", "-c", "%c %d", path.toString()).strip().split(" ");
    return new long[] {Long.parseLong(fields[0]), Long.parseLong(fields[1])};
  }
}
