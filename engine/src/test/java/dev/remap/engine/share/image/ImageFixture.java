package dev.remap.engine.share.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Test helpers for images: writes a built image into a sparse file the way the share's disk
 * reads (metadata, then each placement's bytes, everything else a hole), and reads a file back
 * through {@link ImageReader.Blocks}.
 */
public final class ImageFixture {

  private ImageFixture() {}

  /** Writes image to target; content(i) gives file i's bytes. */
  public static void materialize(BuiltImage image, IntFunction<byte[]> content, Path target) throws IOException {
    try (FileChannel channel = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.truncate(0);
      for (BuiltImage.Written written : image.metadata()) {
        writeFully(channel, ByteBuffer.wrap(written.bytes()), written.offset());
      }
      for (BuiltImage.Placement placement : image.placements()) {
        byte[] bytes = content.apply(placement.file());
        writeFully(channel, ByteBuffer.wrap(bytes, Math.toIntExact(placement.fileOffset()),
            Math.toIntExact(placement.length())), placement.imageOffset());
      }
      // A sparse file of the image's size: the rest reads as zeros, as on the remapped disk.
      if (channel.size() < image.size()) {
        channel.write(ByteBuffer.allocate(1), image.size() - 1);
      }
    }
  }

  /** The file at path as an image to read. */
  public static ImageReader.Blocks blocks(Path path) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    long size = channel.size();
    return new ImageReader.Blocks() {
      @Override
      public long size() {
        return size;
      }

      @Override
      public void read(long offset, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
          int n = channel.read(dst, offset);
          if (n < 0) {
            throw new IOException("read past the end of " + path + " at " + offset);
          }
          offset += n;
        }
      }
    };
  }

  /** The bytes of a found file, read from the image through its extents (holes as zeros). */
  public static byte[] read(ImageReader.Blocks image, ImageReader.FoundFile file) throws IOException {
    byte[] bytes = new byte[Math.toIntExact(file.size())];
    for (ImageReader.Extent extent : file.extents()) {
      image.read(extent.imageOffset(), ByteBuffer.wrap(bytes, Math.toIntExact(extent.fileOffset()),
          Math.toIntExact(extent.length())));
    }
    return bytes;
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer, long offset) throws IOException {
    while (buffer.hasRemaining()) {
      offset += channel.write(buffer, offset);
    }
  }

  /** Checks that files' placements cover each file exactly once. */
  public static void requireCovered(BuiltImage image, List<ImageFile> files) {
    long[] covered = new long[files.size()];
    for (BuiltImage.Placement placement : image.placements()) {
      covered[placement.file()] += placement.length();
    }
    for (BuiltImage.Skipped skipped : image.skipped()) {
      covered[skipped.file()] = files.get(skipped.file()).size();
    }
    for (int i = 0; i < files.size(); i++) {
      if (covered[i] != files.get(i).size()) {
        throw new AssertionError("file " + files.get(i).display() + " has " + covered[i] + " of "
            + files.get(i).size() + " bytes placed");
      }
    }
  }
}
