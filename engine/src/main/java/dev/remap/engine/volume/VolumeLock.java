package dev.remap.engine.volume;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The node-local claim on a volume: an OS file lock next to its journal. It is released by the
 * kernel when the process dies, so a crash never leaves a volume locked.
 */
final class VolumeLock implements AutoCloseable {

  private final Path dir;
  private final FileChannel channel;
  private final FileLock lock;
  /** Run once when the lock is released (the manager forgets the volume it served). */
  private volatile Runnable onRelease = () -> { };

  private VolumeLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
    this.lock = lock;
  }

  static VolumeLock acquire(Path journalRoot, VolumeMeta meta) throws IOException {
    Path dir = journalRoot.resolve(meta.id());
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      // The folder's own name must survive a power cut, not only the files in it.
      forceDirectory(dir.getParent());
      if (dir.getParent().getParent() != null) {
        forceDirectory(dir.getParent().getParent());
      }
    }
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

  /** Runs action when this lock is released. */
  void onRelease(Runnable action) {
    onRelease = action;
  }

  /**
   * Records, durably and before a lease is taken for this journal, which process instance takes
   * it. A process killed after the store has its new lease but before {@link #ownerEpoch(long)}
   * recorded the epoch here leaves a lease newer than the journal's epoch; this record tells the
   * next open that the newer lease was taken for this very journal (nothing was journaled or
   * uploaded under it), so the journal still applies and is not set aside.
   */
  void claiming(String instance) throws IOException {
    writeDurably("claim", instance);
  }

  /** The instance that last went to take a lease for this journal, or empty. */
  Optional<String> claimant() throws IOException {
    Path file = dir.resolve("claim");
    return Files.exists(file) ? Optional.of(Files.readString(file).trim()) : Optional.empty();
  }

  /** The lease epoch under which this node last owned the volume (0: never). */
  long ownerEpoch() throws IOException {
    Path file = dir.resolve("owner-epoch");
    if (!Files.exists(file)) {
      return 0;
    }
    String text = Files.readString(file).trim();
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new VolumeException(file + " is damaged ('" + text + "')");
    }
  }

  /** Records the epoch before anything is journaled under it (write, fsync, rename). */
  void ownerEpoch(long epoch) throws IOException {
    writeDurably("owner-epoch", Long.toString(epoch));
  }

  /** Replaces a small file of the folder whole: write, fsync, rename, fsync the folder. */
  private void writeDurably(String name, String text) throws IOException {
    Path tmp = dir.resolve(name + ".tmp");
    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      out.write(java.nio.ByteBuffer.wrap((text + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
      out.force(true);
    }
    Files.move(tmp, dir.resolve(name), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    // The rename is durable only once the folder is: otherwise a power cut could bring back the
    // old epoch, and the next open would set aside a journal written under the new one.
    forceDirectory(dir);
  }

  private static void forceDirectory(Path directory) throws IOException {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /** Does the journal folder hold journal files (changes possibly not in the store)? */
  boolean hasJournal() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.anyMatch(p -> p.getFileName().toString().endsWith(".wal"));
    }
  }

  /**
   * Moves the journal files aside, into a folder named for the time: they hold changes made
   * before another node took the volume over, which no longer apply on top of its state but
   * are kept for whoever wants to look.
   */
  Path orphanJournal() throws IOException {
    Path kept = dir.resolve("orphaned-" + System.currentTimeMillis());
    Files.createDirectories(kept);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".wal")).toList()) {
        Files.move(p, kept.resolve(p.getFileName()));
      }
    }
    return kept;
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
    onRelease.run();
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
