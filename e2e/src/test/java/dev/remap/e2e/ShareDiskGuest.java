package dev.remap.e2e;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
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
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A VM writing to its share disk without QEMU: the disk (a volume in Remap's file store, opened
 * with this helper's own journal and node id, as a second owner like {@code remap serve}) is read
 * into an image file, loop-mounted so that the kernel's ext4 driver makes the change, unmounted,
 * and every 4 KiB block that changed is written back and flushed, as a guest's block I/O would.
 * Closing the volume puts the writes into segments, where the share agent looks for them.
 * (The engine's test helper GuestWrites does the same in-process; it is in another module's test scope.)
 */
final class ShareDiskGuest {

  /** A change made on the mounted filesystem. */
  interface Change {
    void apply(Path mounted) throws IOException;
  }

  private final Path store;
  private final Path work;

  ShareDiskGuest(Path store, Path work) {
    this.store = store;
    this.work = work;
  }

  /** Makes change on volume's filesystem; returns the number of 4 KiB blocks written to the disk. */
  int write(String volume, Change change) throws IOException {
    Path image = Files.createDirectories(work).resolve("guest.img");
    Path before = work.resolve("before.img");
    int written = 0;
    try (ObjectStore s = FileObjectStore.open(store)) {
      VolumeManager manager = new VolumeManager(s, options());
      try (Volume device = manager.open(volume)) {
        copyOut(device, image);
        Files.copy(image, before, StandardCopyOption.REPLACE_EXISTING);
        mounted(image, false, change);
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
      } finally {
        manager.stopCollecting();
      }
    } finally {
      Files.deleteIfExists(image);
      Files.deleteIfExists(before);
    }
    return written;
  }

  /** The files on volume's filesystem as the kernel reads them: path to SHA-256. */
  Map<String, String> files(String volume) throws IOException {
    Path image = Files.createDirectories(work).resolve("read.img");
    Map<String, String> out = new TreeMap<>();
    try (ObjectStore s = FileObjectStore.open(store)) {
      VolumeManager manager = new VolumeManager(s, options());
      try (Volume device = manager.open(volume)) {
        copyOut(device, image);
      } finally {
        manager.stopCollecting();
      }
      mounted(image, true, root -> {
        try (Stream<Path> walk = Files.walk(root)) {
          for (Path file : walk.filter(Files::isRegularFile).toList()) {
            String name = root.relativize(file).toString();
            if (!name.startsWith("lost+found/")) {
              out.put(name, ShareGuest.sha256(Files.readAllBytes(file)));
            }
          }
        }
      });
    } finally {
      Files.deleteIfExists(image);
    }
    return out;
  }

  private VolumeOptions options() {
    return VolumeOptions.defaults(work.resolve("journal")).withNode("guest-writer");
  }

  private void mounted(Path image, boolean readOnly, Change change) throws IOException {
    Path mount = Files.createDirectories(work.resolve("mnt"));
    Proc.run(Duration.ofMinutes(1), "mount", "-o", readOnly ? "loop,ro" : "loop", image.toString(), mount.toString())
        .requireSuccess();
    try {
      change.apply(mount);
      Proc.run(Duration.ofMinutes(1), "sync").requireSuccess();
    } finally {
      Proc.run(Duration.ofMinutes(1), "umount", mount.toString()).requireSuccess();
    }
  }

  /** The device's bytes in a sparse file. */
  private static void copyOut(Volume device, Path image) throws IOException {
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
