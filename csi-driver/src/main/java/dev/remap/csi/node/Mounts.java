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

  /** Grows a mounted filesystem to the size of its device. */
  static void growFilesystem(String device, Path mountPoint, String fsType) throws IOException {
    switch (fsType) {
      case "ext4", "ext3" -> Commands.run("resize2fs", device);
      case "xfs" -> Commands.run("xfs_growfs", mountPoint.toString());
      default -> throw new IOException("cannot grow a " + fsType + " filesystem");
    }
  }

  /** Total and free inodes of the filesystem at path. */
  static long[] inodes(Path path) throws IOException {
    String[] fields = Commands.run("stat", "-f", "-c", "%c %d", path.toString()).strip().split(" ");
    return new long[] {Long.parseLong(fields[0]), Long.parseLong(fields[1])};
  }
}
