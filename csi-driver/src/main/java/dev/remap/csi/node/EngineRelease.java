package dev.remap.csi.node;

import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Waits until the engine has closed a volume after its device went away. The NBD server closes a
 * volume when its last connection ends, in the background: it drains the volume's journal to the
 * store, then lets go of the volume's single-writer lock. An unstaged volume must be free when
 * NodeUnstageVolume returns (the CO may delete it next, or attach it on another node), so unstage
 * waits for that lock.
 *
 * <p>The probe takes the lock the way the engine does ({@code JOURNAL/VOLUME-ID/lock}, an OS file
 * lock) and lets go at once. It mirrors the engine's layout because the NBD server offers no
 * "closed" signal; if it ever does, this class is what to replace.
 */
final class EngineRelease {

  private EngineRelease() {}

  /** Waits until nothing holds the volume's lock, or the timeout passes (then false). */
  static boolean await(VolumeManager volumes, Path journalDir, String volume, Duration timeout) throws IOException {
    Optional<VolumeMeta> meta = volumes.find(volume);
    if (meta.isEmpty()) {
      return true;
    }
    Path lockFile = journalDir.resolve(meta.get().id()).resolve("lock");
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      if (!Files.exists(lockFile) || free(lockFile)) {
        return true;
      }
      if (Instant.now().isAfter(deadline)) {
        return false;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for the engine to close volume " + volume, e);
      }
    }
  }

  private static boolean free(Path lockFile) throws IOException {
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      try {
        FileLock lock = channel.tryLock();
        if (lock == null) {
          return false;
        }
        lock.release();
        return true;
      } catch (OverlappingFileLockException heldByThisProcess) {
        return false;
      }
    }
  }
}
