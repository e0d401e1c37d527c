package dev.remap.engine.share;

import dev.remap.engine.block.BlockDevice;
import dev.remap.testkit.Proc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;

/**
 * A guest's writes to a share disk, made by a real filesystem implementation (the Linux kernel's
 * driver through a loop mount, or mtools): the disk is read into an image file, changed, and every
 * 4 KiB block that changed is written to the disk, as a guest's block I/O would. (The QEMU guest tests do the same
 * through a real VM; this keeps the engine's tests quick.)
 */
final class GuestWrites {

  /** A change to a filesystem image file. */
  interface Change {
    void apply(Path image) throws IOException;
  }

  /** A change made through the kernel's driver: the image loop-mounted at a folder (ext4 here). */
  interface MountedChange {
    void apply(Path mounted) throws IOException;
  }

  /**
   * A change made by the kernel: loop-mount, change, sync, unmount. (This machine's kernel has no
   * vfat driver; FAT disks are changed with mtools here and by the guest's kernel in the QEMU tests.)
   */
  static Change mounted(Path work, MountedChange change) {
    return image -> {
      Path mount = Files.createDirectories(work.resolve("mnt"));
      Proc.run(Duration.ofMinutes(1), "mount", "-o", "loop", image.toString(), mount.toString()).requireSuccess();
      try {
        change.apply(mount);
        Proc.run(Duration.ofMinutes(1), "sync").requireSuccess();
      } finally {
        Proc.run(Duration.ofMinutes(1), "umount", mount.toString()).requireSuccess();
      }
    };
  }

  private GuestWrites() {}

  /** Applies change to the filesystem on device; returns the number of 4 KiB blocks written. */
  static int apply(BlockDevice device, Path work, Change change) throws IOException {
    Files.createDirectories(work);
    Path image = work.resolve("guest.img");
    Path before = work.resolve("before.img");
    copyOut(device, image);
    Files.copy(image, before, StandardCopyOption.REPLACE_EXISTING);
    change.apply(image);
    int written = 0;
    try (FileChannel a = FileChannel.open(before); FileChannel b = FileChannel.open(image)) {
      ByteBuffer old = ByteBuffer.allocate(4096);
      ByteBuffer now = ByteBuffer.allocate(4096);
      for (long offset = 0; offset < device.size(); offset += 4096) {
        old.clear();
        now.clear();
        a.read(old, offset);
        b.read(now, offset);
        if (!Arrays.equals(old.array(), now.array())) {
          device.write(offset, ByteBuffer.wrap(now.array()), false);
          written++;
        }
      }
    }
    device.flush();
    Files.delete(image);
    Files.delete(before);
    return written;
  }

  /** The device's bytes in a sparse file. */
  static void copyOut(BlockDevice device, Path image) throws IOException {
    try (FileChannel out = FileChannel.open(image, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
      ByteBuffer zero = ByteBuffer.allocateDirect(1 << 20);
      for (long offset = 0; offset < device.size(); offset += buffer.capacity()) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), device.size() - offset));
        device.read(offset, buffer);
        buffer.flip();
        zero.clear().limit(buffer.limit());
        if (!buffer.equals(zero)) {
          out.write(buffer, offset);
        }
      }
      if (out.size() < device.size()) {
        out.write(ByteBuffer.allocate(1), device.size() - 1);
      }
    }
  }
}
