package dev.remap.engine.store;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The objects of a {@link FileObjectStore} whose keys start with a prefix: a walk of the folders
 * the prefix can reach, from the deepest folder it names, skipping every other subtree.
 */
final class FileListing {

  private FileListing() {}

  /** The objects under root whose keys start with prefix (already checked), sorted by key. */
  static List<ObjectInfo> of(Path root, String prefix) throws IOException {
    int slash = prefix.lastIndexOf('/');
    Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
    List<ObjectInfo> found = new ArrayList<>();
    if (!Files.isDirectory(start, LinkOption.NOFOLLOW_LINKS)) {
      return found;
    }
    Files.walkFileTree(start, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
        if (dir.equals(start)) {
          return FileVisitResult.CONTINUE;
        }
        String folder = keyOf(root, dir) + "/";
        return folder.startsWith(prefix) || prefix.startsWith(folder)
            ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
        String key = keyOf(root, file);
        if (attributes.isRegularFile() && key.startsWith(prefix) && ObjectKeys.isValid(key)) {
          found.add(new ObjectInfo(key, attributes.size(), attributes.lastModifiedTime().toInstant()));
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        // A temporary file renamed or deleted by a concurrent put while we walk: not an object.
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }
    });
    found.sort(Comparator.comparing(ObjectInfo::key));
    return found;
  }

  /** The key of the file (or folder) at path under root. */
  static String keyOf(Path root, Path path) {
    return root.relativize(path).toString().replace(path.getFileSystem().getSeparator(), "/");
  }
}
