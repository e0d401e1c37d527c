package dev.remap.engine.journal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Retired journal files kept to be written again, at most {@link #MOST}: the next roll renames
 * one to its new name and writes over it instead of creating a file.
 *
 * <p>Why: an append to a new file takes fresh page-cache pages and new blocks and grows the file,
 * so the fdatasync of every FLUSH also commits the file system's own journal for the new size and
 * blocks; an append over a spare rewrites pages and blocks the file already has, within its size,
 * and the fdatasync writes the data alone. (On a virtual machine that gives freed memory back to
 * its host, fresh pages also fault on the host: docs/BENCHMARKS.md.)
 *
 * <p>Durability: a retired file becomes a spare by a rename made durable (the folder forced)
 * before the spare is handed out, so a power cut cannot bring it back under its old name holding
 * its next use's records. What a spare held is numbered below any name it is given later (it was
 * retired before those numbers existed, and numbers are never given twice), which is how recovery
 * tells an earlier use's records from this one's. Spares count against the journal's capacity:
 * live files and spares together never take more than it.
 *
 * <p>Locking: its own monitor, a leaf: the journal takes a spare under its lock and keeps retired
 * files outside it (the renames and the folder's fsync are file system calls).
 */
final class JournalSpares {

  static final String SUFFIX = ".spare";
  /**
   * Enough that a roll finds a spare while files retire in bursts (at a barrier, several at once):
   * with two, about half the rolls of 4 KiB random writes with a FLUSH every 32 created a file
   * (docs/BENCHMARKS.md, "Step 23"). More would hold disk for nothing.
   */
  static final int MOST = 4;

  private final Path dir;
  private final ArrayDeque<Path> ready = new ArrayDeque<>();

  private JournalSpares(Path dir) {
    this.dir = dir;
  }

  /** The spares found in dir (a durable rename made each), at most {@link #MOST}; the rest deleted. */
  static JournalSpares open(Path dir) throws IOException {
    JournalSpares spares = new JournalSpares(dir);
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      stream.forEach(found::add);
    }
    found.sort(null);
    for (Path path : found) {
      if (spares.ready.size() < MOST) {
        spares.ready.add(path);
      } else {
        Files.deleteIfExists(path);
      }
    }
    return spares;
  }

  /** A spare to write over, or null when there is none. */
  synchronized Path take() {
    return ready.poll();
  }

  /** Spares ready now. */
  synchronized int count() {
    return ready.size();
  }

  /**
   * Keeps retired files as spares while there is room (at most {@link #MOST}, and live files plus
   * spares within capacity), deletes the others. Every file is gone from its name when this
   * returns, or the first failure is thrown after the others were dealt with.
   */
  void keepOrDelete(List<JournalFile> retired, int liveFiles, long fileSize, long capacity) throws IOException {
    int room = (int) Math.min(MOST, capacity / fileSize - liveFiles) - count();
    List<Path> kept = new ArrayList<>();
    IOException failed = null;
    for (JournalFile file : retired) {
      try {
        if (kept.size() < room && !file.adopted()) { // an adopted file's bytes are the store's now
          Path spare = dir.resolve(file.name().replace(".wal", SUFFIX));
          file.recycle(spare);
          kept.add(spare);
        } else {
          file.delete();
        }
      } catch (IOException e) {
        failed = failed == null ? e : failed; // the other files still go
        try {
          file.delete(); // a rename that failed leaves the file under its old name: deleted then
        } catch (IOException again) {
          e.addSuppressed(again);
        }
      }
    }
    if (!kept.isEmpty()) {
      JournalFile.forceFolder(dir);
      synchronized (this) {
        ready.addAll(kept);
      }
    }
    if (failed != null) {
      throw failed;
    }
  }
}
