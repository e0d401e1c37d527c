package dev.remap.engine.volume;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The node-local claim on a volume: an OS file lock next to its journal. It is released by the
 * kernel when the process dies, so a crash never leaves a volume locked.
 */
final class VolumeLock implements AutoCloseable {

  private final Path dir;
  private final FileChannel channel;
  private final FileLock lock;

  private VolumeLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
    this.lock = lock;
  }

  static VolumeLock acquire(Path journalRoot, VolumeMeta meta) throws IOException {
    Path dir = journalRoot.resolve(meta.id());
    Files.createDirectories(dir);
    FileChannel channel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      channel.close();
      throw new VolumeException("volume " + meta.name() + " is in use by another process on this node "
          + "(is it being served?)");
    }
    return new VolumeLock(dir, channel, lock);
  }

  Path dir() {
    return dir;
  }

  /** Removes the journal folder of a deleted volume (while still holding the lock). */
  void deleteJournal() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        if (!p.getFileName().toString().equals("lock") && !p.equals(dir)) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
