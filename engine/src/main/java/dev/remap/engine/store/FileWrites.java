package dev.remap.engine.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The file system steps of a {@link FileObjectStore}'s writes: folders created durably, temporary
 * files written with or without fsync, and the later sync of files written without. They are apart
 * from the store so that the store reads as what it does with keys (atomic publishing by rename or
 * link, counters, its read channels, the error sentences) and the durability steps it builds on
 * read on their own. This class knows paths only, never keys; the store makes the other kind of
 * fsync itself (of a folder, after it renames, links or unlinks in it), with {@link #fsyncFolder}.
 *
 * <p><b>Durable and lazy.</b> A temporary file written with {@code force} is fsynced before it is
 * published, so its name (once the store fsyncs the folder) points at its bytes. One written
 * without is the store's lazy write (putIfAbsentLazily): {@link #sync} later fsyncs such files
 * (those still there, whoever wrote them), then each of their folders once, after the data of every
 * file in it.
 *
 * <p>Temporary files are named ".~&lt;random&gt;.tmp": '~' is not allowed in keys, so they never
 * collide with an object and the store's list never shows them.
 *
 * <p><b>Locking.</b> None. The one state is the set of folders known durable, a concurrent set:
 * two threads that race to make the same folder durable both fsync its parent, which costs one
 * fsync and is otherwise harmless.
 */
final class FileWrites {

  private final Path root;
  private final Set<Path> durableFolders = ConcurrentHashMap.newKeySet();

  FileWrites(Path root) {
    this.root = root;
  }

  /**
   * Makes folder exist durably: created if missing (with its parents), and its entry in its parent
   * fsynced at least once by this store, even when another thread or an earlier run created it
   * (its creator may not have fsynced yet). Folders known durable are remembered, so the cost is
   * one fsync per folder per process.
   */
  void ensureFolder(Path folder) throws IOException {
    if (durableFolders.contains(folder)) {
      return;
    }
    Path parent = folder.getParent();
    if (parent != null && folder.startsWith(root) && !folder.equals(root)) {
      ensureFolder(parent);
    } else if (parent != null) {
      Files.createDirectories(parent);
    }
    try {
      Files.createDirectory(folder);
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(folder)) {
        throw e;
      }
    }
    if (parent != null) {
      fsyncFolder(parent);
    }
    durableFolders.add(folder);
  }

  /**
   * Writes data (from its position to its limit, without moving it) into a new temporary file in
   * folder, which must exist; fsyncs the file if force. On failure the file is removed.
   *
   * @return the temporary file's path
   */
  static Path writeTemp(Path folder, ByteBuffer data, boolean force) throws IOException {
    Path temp = folder.resolve(".~" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer source = data.duplicate();
      while (source.hasRemaining()) {
        channel.write(source);
      }
      if (force) {
        channel.force(true);
      }
    } catch (IOException e) {
      discard(temp, e);
      throw e;
    }
    return temp;
  }

  /**
   * Makes files written without fsync durable: fsyncs each that exists (one deleted since it was
   * written has nothing left to make durable), then each of their folders once. The files are taken
   * one at a time from the iterable, so a path that fails to resolve stops the sync there.
   */
  static void sync(Iterable<Path> files) throws IOException {
    Set<Path> folders = new LinkedHashSet<>();
    for (Path path : files) {
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
        channel.force(true);
      } catch (IOException e) {
        if (!isMissing(e)) {
          throw e;
        }
      }
      folders.add(path.getParent());
    }
    // One fsync per folder, after the data of every file in it: the names then point at bytes.
    for (Path folder : folders) {
      fsyncFolder(folder);
    }
  }

  /** Makes the folder's entries (names created, renamed or removed in it) durable. */
  static void fsyncFolder(Path folder) throws IOException {
    try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /** Removes a temporary file after e; a failure to remove it is added to e, not thrown over it. */
  static void discard(Path temp, IOException e) {
    try {
      Files.deleteIfExists(temp);
    } catch (IOException notRemoved) {
      e.addSuppressed(notRemoved);
    }
  }

  /** A missing file, or a path through something that is not a folder ("a/b" when "a" is a file). */
  static boolean isMissing(IOException e) {
    return e instanceof NoSuchFileException || e instanceof NotDirectoryException
        || (e instanceof FileSystemException f && "Not a directory".equals(f.getReason()));
  }

  /** What {@link #link} found: a name made now, the same file named already, or no link. */
  enum Link { MADE, ALREADY, NONE }

  /**
   * Gives file the second name target (a hard link, no byte copied) and makes it young, as a
   * written object would be (garbage collection spares young objects). NONE when target names
   * another file, or the file system cannot link file there (another file system, or none with
   * hard links): the caller copies the bytes instead.
   */
  static Link link(Path target, Path file) throws IOException {
    Link made = Link.MADE;
    try {
      Files.createLink(target, file);
    } catch (FileAlreadyExistsException e) {
      // Linked before (by an earlier segment, or an attempt whose answer was lost): the same file?
      if (!Files.isSameFile(target, file)) {
        return Link.NONE;
      }
      made = Link.ALREADY;
    } catch (IOException | UnsupportedOperationException e) {
      return Link.NONE;
    }
    Files.setLastModifiedTime(target, FileTime.from(Instant.now()));
    return made;
  }
}
