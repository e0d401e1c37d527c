package dev.remap.engine.share.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;

/** Lists the files of a filesystem image, as a guest left it. */
public interface ImageReader {

  /** Random reads of the image (a snapshot of a VM's disk, or a file in tests). */
  interface Blocks {
    long size();

    /** Fills dst's remaining bytes from offset of the image. */
    void read(long offset, ByteBuffer dst) throws IOException;
  }

  /**
   * A file found on the image: its path, size, modification time and the image ranges holding its
   * bytes in file order (ranges a sparse file does not have, or that are unwritten, are absent:
   * they read as zeros).
   */
  record FoundFile(List<String> path, long size, Instant modified, List<Extent> extents) {
    public FoundFile {
      path = List.copyOf(path);
      extents = List.copyOf(extents);
    }
  }

  /** length bytes of the file from fileOffset are at imageOffset of the image. */
  record Extent(long fileOffset, long imageOffset, long length) {}

  /** What the image holds: every regular file and every directory (as paths). */
  record Listing(List<FoundFile> files, List<List<String>> directories) {
    public Listing {
      files = List.copyOf(files);
      directories = List.copyOf(directories);
    }
  }

  /**
   * Reads the filesystem's structure (never the files' bytes). Fails with an IOException whose
   * message says what is wrong when the image is not this filesystem or is damaged.
   */
  Listing list(Blocks image) throws IOException;
}
