package dev.remap.engine.store;

import static dev.remap.engine.store.FileWrites.discard;
import static dev.remap.engine.store.FileWrites.fsyncFolder;
import static dev.remap.engine.store.FileWrites.isMissing;

import dev.remap.engine.store.StoreMetrics.Operation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Objects as files under a root folder ({@code file:///path}): key "a/b" is the file root/a/b.
 *
 * <p><b>Durability and atomicity.</b> put writes a temporary file in the target's folder, fsyncs
 * it, renames it over the target (rename(2) is atomic: a reader opens either the old file or the
 * new one, never a partial one) and fsyncs the folder so the rename survives a power cut.
 * putIfAbsent does the same but publishes with link(2), which fails atomically when the target
 * exists. A folder's own entry is fsynced into its parent before the first object is renamed into
 * it. delete fsyncs the folder after unlinking.
 *
 * <p><b>Lazy writes.</b> putIfAbsentLazily publishes the same way (link(2): visible whole at once)
 * but fsyncs neither the file nor its folder; syncLazy fsyncs the files named (any that exist: a
 * process that finds such an object left by its crashed predecessor makes it durable the same
 * way), then each of their folders once. Until then a power cut may leave the name without its
 * data (or without the name): the caller verifies such objects after one. A background thread
 * writes each lazily put file to the disk soon after ({@link EarlyWriteback}), so that syncLazy
 * finds the data written; that changes when the disk works, not what is promised.
 *
 * <p><b>Locking.</b> None: every operation is one or a few system calls whose atomicity the
 * kernel provides, so any number of threads (and processes) may use the same root. The one
 * exception: reads of data segments keep their files open between calls ({@link ReadChannels},
 * which has its own short lock and is told of every put and delete made here);
 * {@link FileWrites} remembers the folders it made durable in a concurrent set; and the early
 * writeback has its own queue and thread.
 *
 * <p>The file system steps (folders made durable, temporary files, the lazy sync) are in
 * {@link FileWrites}, which knows paths, not keys. Its temporary files never collide with an
 * object and list never shows them. A crash in the middle of a put can leave one behind; it
 * wastes space and nothing else. A put that finds the disk full removes its temporary file and
 * throws {@link NoSpaceException}. Folders are never removed (an empty folder is harmless, and
 * removing one would race with a concurrent put into it).
 */
public final class FileObjectStore implements ObjectStore {

  private final Path root;
  private final StoreCounters counters = new StoreCounters();
  // Folders made durable, temporary files, fsyncs: the file system side of every write here.
  private final FileWrites files;
  // Segment files kept open between reads; told of every put and delete here (see ReadChannels).
  private final ReadChannels channels = new ReadChannels(ReadChannels.DEFAULT_CAPACITY, ReadChannels.SEGMENTS);
  // Lazily put files written to the disk soon after, so that syncLazy finds them written.
  private final EarlyWriteback writeback;

  private FileObjectStore(Path root, boolean earlyWriteback) {
    this.root = root;
    this.files = new FileWrites(root);
    this.writeback = earlyWriteback ? new EarlyWriteback(String.valueOf(root.getFileName())) : null;
  }

  /** Opens the store rooted at root, creating the folder (durably) if it is missing. */
  public static FileObjectStore open(Path root) throws IOException {
    return open(root, true);
  }

  /**
   * As {@link #open(Path)}; without earlyWriteback, lazily put files reach the disk only when
   * syncLazy (or the kernel) writes them, so a power cut tears more of them: what tests of the
   * recovery from torn segments need.
   */
  public static FileObjectStore open(Path root, boolean earlyWriteback) throws IOException {
    FileObjectStore store = new FileObjectStore(root.toAbsolutePath().normalize(), earlyWriteback);
    try {
      store.files.ensureFolder(store.root);
    } catch (IOException e) {
      throw new StoreException(StoreException.Reason.NO_BUCKET,
          "cannot create the store folder " + store.root + ": " + reason(e), e);
    }
    return store;
  }

  public Path root() {
    return root;
  }

  @Override
  public void put(String key, ByteBuffer data) throws IOException {
    Path target = resolve(key);
    counters.count(Operation.PUT, () -> {
      try {
        Path temp = FileWrites.writeTemp(folderOf(key, target), data, true);
        try {
          Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          discard(temp, e);
          throw Files.isDirectory(target) ? folderConflict(key) : e;
        }
        channels.forget(key); // replaced: no read may use the old file from now on
        fsyncFolder(target.getParent());
        return null;
      } catch (IOException e) {
        throw noSpaceOr(e, key);
      }
    });
    counters.addBytes(Operation.PUT, data.remaining());
  }

  @Override
  public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
    return link(key, data, false);
  }

  @Override
  public boolean putIfAbsentLazily(String key, ByteBuffer data) throws IOException {
    return link(key, data, true);
  }

  @Override
  public void syncLazy(Collection<String> keys) throws IOException {
    // Each key is resolved (and checked) as the sync reaches it.
    FileWrites.sync(() -> keys.stream().map(this::resolve).iterator());
  }

  @Override
  public boolean defersDurability() {
    return true;
  }

  @Override
  public boolean adoptLazily(String key, Path file) throws IOException {
    Path target = resolve(key);
    return counters.count(Operation.PUT, () -> {
      try {
        folderOf(key, target);
      } catch (IOException e) {
        return false; // the caller copies; a put of the same key reports the conflict
      }
      FileWrites.Link link = FileWrites.link(target, file);
      if (link == FileWrites.Link.MADE) {
        channels.forget(key); // a file of this name another process deleted may still be open here
      }
      return link != FileWrites.Link.NONE;
    });
  }

  /** putIfAbsent, and lazily: without fsyncing the file or its folder (see the class comment). */
  private boolean link(String key, ByteBuffer data, boolean lazy) throws IOException {
    Path target = resolve(key);
    boolean created = counters.count(Operation.PUT, () -> {
      try {
        Path temp = FileWrites.writeTemp(folderOf(key, target), data, !lazy);
        boolean linked = false;
        try {
          // link(2) never replaces: of two racing callers exactly one creates the name.
          Files.createLink(target, temp);
          linked = true;
        } catch (FileAlreadyExistsException e) {
          if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            IOException conflict = folderConflict(key);
            discard(temp, conflict);
            throw conflict;
          }
        } catch (IOException e) {
          discard(temp, e);
          throw e;
        }
        Files.deleteIfExists(temp);
        if (linked && !lazy) {
          fsyncFolder(target.getParent());
        }
        return linked;
      } catch (IOException e) {
        throw noSpaceOr(e, key);
      }
    });
    if (created) {
      channels.forget(key); // a file of this name another process deleted may still be open here
      counters.addBytes(Operation.PUT, data.remaining());
      if (lazy && writeback != null) {
        writeback.offer(target);
      }
    }
    return created;
  }

  @Override
  public int read(String key, long offset, ByteBuffer dst) throws IOException {
    Path path = resolve(key);
    if (offset < 0) {
      throw new IllegalArgumentException("negative offset " + offset + " reading object " + key);
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    int total = counters.count(Operation.GET, () -> {
      try {
        return channels.read(key, path, offset, dst);
      } catch (IOException e) {
        throw missingOr(key, path, e);
      }
    });
    counters.addBytes(Operation.GET, total);
    return total;
  }

  @Override
  public byte[] get(String key) throws IOException {
    Path path = resolve(key);
    byte[] bytes = counters.count(Operation.GET, () -> {
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
        long size = channel.size();
        if (size > Integer.MAX_VALUE - 8) {
          throw new IOException("object " + key + " is " + size + " bytes, too large to get whole: read it in ranges");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) size);
        while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) >= 0) {
          // A replaced object is a new file: this open one keeps its size, so the loop ends.
        }
        return buffer.array();
      } catch (IOException e) {
        throw missingOr(key, path, e);
      }
    });
    counters.addBytes(Operation.GET, bytes.length);
    return bytes;
  }

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    Path path = resolve(key);
    return counters.count(Operation.HEAD, () -> {
      try {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return attributes.isRegularFile()
            ? Optional.of(new ObjectInfo(key, attributes.size(), attributes.lastModifiedTime().toInstant()))
            : Optional.empty();
      } catch (IOException e) {
        if (isMissing(e)) {
          return Optional.empty();
        }
        throw e;
      }
    });
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    ObjectKeys.requireValidPrefix(prefix);
    return counters.count(Operation.LIST, () -> FileListing.of(root, prefix));
  }

  @Override
  public void delete(String key) throws IOException {
    Path path = resolve(key);
    counters.count(Operation.DELETE, () -> {
      boolean removed = unlink(path);
      channels.forget(key);
      if (removed) {
        fsyncFolder(path.getParent());
      }
      return null;
    });
  }

  @Override
  public void deleteAll(Collection<String> keys) throws IOException {
    List<Path> paths = new ArrayList<>(keys.size());
    for (String key : keys) {
      paths.add(resolve(key));
    }
    // One fsync per folder, after all of its unlinks, rather than one per object.
    Set<Path> touched = new LinkedHashSet<>();
    for (Path path : paths) {
      boolean removed = counters.count(Operation.DELETE, () -> unlink(path));
      channels.forget(FileListing.keyOf(root, path));
      if (removed) {
        touched.add(path.getParent());
      }
    }
    for (Path folder : touched) {
      fsyncFolder(folder);
    }
  }

  @Override
  public void check() throws IOException {
    counters.count(Operation.HEAD, () -> {
      if (!Files.isDirectory(root)) {
        throw new StoreException(StoreException.Reason.NO_BUCKET,
            "the store folder " + root + " does not exist or is not a folder");
      }
      if (!Files.isWritable(root)) {
        throw new StoreException(StoreException.Reason.ACCESS_DENIED,
            "the store folder " + root + " is not writable by this process");
      }
      return null;
    });
  }

  @Override
  public StoreMetrics metrics() {
    return counters.snapshot();
  }

  @Override
  public boolean isLocal() {
    return true;
  }

  @Override
  public String describe() {
    return new StoreUri.File(root).toString();
  }

  @Override
  public void close() {
    // Only the kept read channels are held between calls; a read after close opens its own.
    channels.close();
    if (writeback != null) {
      writeback.close();
    }
  }

  /**
   * Waits until count lazily put files have been written back to the disk (before any syncLazy
   * asked), or timeout passed; whether they were (for tests).
   */
  boolean awaitWrittenBack(long count, java.time.Duration timeout) throws InterruptedException {
    return writeback != null && writeback.awaitWritten(count, timeout);
  }

  @Override
  public String toString() {
    return describe();
  }

  private Path resolve(String key) {
    ObjectKeys.requireValid(key);
    Path path = root.resolve(key).normalize();
    // ObjectKeys already rules out "..": this is the second lock on the same door.
    if (!path.startsWith(root) || path.equals(root)) {
      throw new IllegalArgumentException("invalid object key '" + key + "': it leaves the store folder");
    }
    return path;
  }

  /** The folder of key's file, made to exist durably; a file in its way is a conflict of keys. */
  private Path folderOf(String key, Path target) throws IOException {
    Path folder = target.getParent();
    try {
      files.ensureFolder(folder);
    } catch (FileAlreadyExistsException | NotDirectoryException e) {
      throw folderConflict(key);
    } catch (FileSystemException e) {
      throw isMissing(e) ? folderConflict(key) : e;
    }
    return folder;
  }

  /** A full disk as {@link NoSpaceException}, naming the object; any other failure unchanged. */
  private IOException noSpaceOr(IOException e, String key) {
    return NoSpaceException.convert(e, "object " + key + " in " + describe());
  }

  private IOException folderConflict(String key) {
    return new IOException("object key " + key + " conflicts with another object in " + describe()
        + ": a file store cannot hold both a key and keys below it (\"a\" and \"a/b\")");
  }

  private IOException missingOr(String key, Path path, IOException e) {
    return isMissing(e) || Files.isDirectory(path) ? new NoSuchObjectException(key, describe()) : e;
  }

  private static boolean unlink(Path path) throws IOException {
    if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      return false; // A folder of other keys, not an object.
    }
    try {
      return Files.deleteIfExists(path);
    } catch (IOException e) {
      if (isMissing(e)) {
        return false;
      }
      throw e;
    }
  }

  private static String reason(IOException e) {
    return e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : String.valueOf(e.getMessage());
  }
}
