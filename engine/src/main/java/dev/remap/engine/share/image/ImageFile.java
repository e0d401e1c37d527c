package dev.remap.engine.share.image;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A file to place on a generated disk: its path from the disk's root as a list of names (Unicode,
 * spaces allowed; never empty, ".", ".." or containing '/' or NUL), its size and its modification
 * time. Directories are made for every prefix of a path.
 */
public record ImageFile(List<String> path, long size, Instant modified) {
  public ImageFile {
    path = List.copyOf(path);
    Objects.requireNonNull(modified, "modified");
    if (path.isEmpty()) {
      throw new IllegalArgumentException("a file needs a path");
    }
    for (String name : path) {
      if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
          || name.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("bad name '" + name + "' in path " + path);
      }
    }
    if (size < 0) {
      throw new IllegalArgumentException("negative size " + size + " of " + path);
    }
  }

  /** The path joined with '/', for messages and status. */
  public String display() {
    return String.join("/", path);
  }
}
