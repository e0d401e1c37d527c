package dev.remap.e2e;

import dev.remap.testkit.Proc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What the kernel's block layer says about a device (its /sys/dev/block folder), so that a test
 * can wait for I/O to reach a device, or see it held there, instead of sleeping and hoping.
 */
final class BlockDevices {

  private BlockDevices() {}

  /** The sysfs folder of the block device whose node is at device (e.g. a published target). */
  static Path sysfs(Path device) {
    String[] majorMinor = Proc.run(Duration.ofSeconds(30), "stat", "-c", "%t:%T", device.toString())
        .requireSuccess().output().strip().split(":");
    return Path.of("/sys/dev/block/" + Integer.parseInt(majorMinor[0], 16) + ":" + Integer.parseInt(majorMinor[1], 16));
  }

  /** Bytes written to the device since it appeared (the stat file counts 512-byte sectors). */
  static long bytesWritten(Path sysfs) {
    return Long.parseLong(read(sysfs.resolve("stat")).strip().split("\\s+")[6]) * 512;
  }

  /** Reads and writes the device has been sent and not yet seen completed. */
  static long inFlight(Path sysfs) {
    String[] readsWrites = read(sysfs.resolve("inflight")).strip().split("\\s+");
    return Long.parseLong(readsWrites[0]) + Long.parseLong(readsWrites[1]);
  }

  /** Writes the device has been sent and not yet seen completed. */
  static long inFlightWrites(Path sysfs) {
    return Long.parseLong(read(sysfs.resolve("inflight")).strip().split("\\s+")[1]);
  }

  /** The device a loop device reads and writes (its backing file), as the kernel names it. */
  static Path loopBacking(Path loopSysfs) {
    return Path.of(read(loopSysfs.resolve("loop/backing_file")).strip());
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
