package dev.remap.engine.store;

import dev.remap.testkit.Proc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A small real filesystem mounted for one test (ext4 on a loop device, or tmpfs), so that a full
 * disk is the kernel's ENOSPC and not a simulation. Mounting needs root: tests skip without it.
 * {@link #fill} takes every free byte with filler files; {@link #free} deletes them.
 */
public final class SmallDisk implements AutoCloseable {

  private static final Duration QUICK = Duration.ofSeconds(30);

  private final Path mountPoint;
  private final Path image;
  private final List<Path> fillers = new ArrayList<>();

  private SmallDisk(Path mountPoint, Path image) {
    this.mountPoint = mountPoint;
    this.image = image;
  }

  /** Whether this process may mount filesystems (it runs as root). */
  public static boolean canMount() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** An ext4 filesystem of bytes (no blocks reserved for root) in an image under work, loop-mounted. */
  public static SmallDisk ext4(Path work, long bytes) throws IOException {
    Path image = work.resolve("disk.img");
    Path mountPoint = Files.createDirectories(work.resolve("disk"));
    try (FileChannel channel = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      channel.truncate(0).position(bytes - 1).write(ByteBuffer.allocate(1));
    }
    run("mkfs.ext4", "-q", "-F", "-m", "0", "-E", "lazy_itable_init=0,lazy_journal_init=0", image.toString());
    run("mount", "-o", "loop", image.toString(), mountPoint.toString());
    return new SmallDisk(mountPoint, image);
  }

  /** A tmpfs of bytes (and at most inodes files and folders, counting its root) mounted under work. */
  public static SmallDisk tmpfs(Path work, long bytes, int inodes) throws IOException {
    Path mountPoint = Files.createDirectories(work.resolve("disk"));
    run("mount", "-t", "tmpfs", "-o", "size=" + bytes + ",nr_inodes=" + inodes, "tmpfs", mountPoint.toString());
    return new SmallDisk(mountPoint, null);
  }

  public Path root() {
    return mountPoint;
  }

  /** Free bytes as the filesystem reports them. */
  public long freeBytes() throws IOException {
    return Files.getFileStore(mountPoint).getUsableSpace();
  }

  /** Writes filler files until all but about leave bytes are taken. */
  public void fillLeaving(long leave) throws IOException {
    long take = freeBytes() - leave;
    if (take > 0) {
      writeFiller(take);
    }
  }

  /** Writes a filler file until the disk answers ENOSPC: the disk is then really full. */
  public void fill() throws IOException {
    writeFiller(Long.MAX_VALUE);
  }

  private void writeFiller(long limit) throws IOException {
    Path filler = mountPoint.resolve("filler-" + fillers.size());
    fillers.add(filler);
    ByteBuffer block = ByteBuffer.allocate(64 << 10);
    long written = 0;
    try (FileChannel channel = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      // Big writes first, then ever smaller ones, so that the last few free bytes are taken too.
      for (int size = block.capacity(); size > 0 && written < limit; ) {
        block.clear().limit((int) Math.min(size, limit - written));
        try {
          written += channel.write(block);
        } catch (IOException e) {
          if (!NoSpaceException.isNoSpace(e)) {
            throw e;
          }
          size /= 2;
        }
      }
      channel.force(false);
    }
  }

  /** Deletes every filler file. */
  public void free() throws IOException {
    for (Path filler : fillers) {
      Files.deleteIfExists(filler);
    }
    fillers.clear();
  }

  @Override
  public void close() {
    // Lazily if busy: a process that still holds a file there must not keep the mount forever.
    if (Proc.run(QUICK, "umount", mountPoint.toString()).exitCode() != 0) {
      Proc.run(QUICK, "umount", "-l", mountPoint.toString());
    }
    if (image != null) {
      try {
        Files.deleteIfExists(image);
      } catch (IOException e) {
        // The test's temporary folder goes anyway.
      }
    }
  }

  private static void run(String... command) {
    Proc.run(QUICK, command).requireSuccess();
  }
}
