package dev.remap.engine.volume;

import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A volume's files as a crash leaves them, for the crash and power-cut tests. */
final class CrashCopies {

  private CrashCopies() {}

  /** A copy's lease is its running owner's: the process reopening it is that owner after its crash. */
  static void dropLeases(ObjectStore crashed) throws IOException {
    crashed.deleteAll(crashed.list(StoreLayout.LEASES).stream().map(ObjectInfo::key).toList());
  }

  /**
   * Copies a folder as a crash leaves it (what is written, in the page cache or not), temp files
   * left out. The volume may still be open and working: a file it renames or retires between the
   * listing and the copy is left out, as a crash just after that rename or unlink would leave it.
   */
  static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> listing = Files.newDirectoryStream(from)) {
      listing.forEach(entries::add);
    } catch (NoSuchFileException gone) {
      return; // a folder removed since its parent was listed
    }
    for (Path file : entries) {
      Path target = to.resolve(file.getFileName().toString());
      if (Files.isDirectory(file)) {
        copy(file, target);
      } else if (!file.getFileName().toString().startsWith(".~")) {
        try {
          Files.copy(file, target);
        } catch (NoSuchFileException gone) {
          // renamed or retired since the listing: the copy is of a moment after that
        }
      }
    }
  }
}
