package dev.remap.engine.share.image;

import java.util.List;

/**
 * A laid-out filesystem image of {@code size} bytes. {@code metadata} are the byte runs to write
 * (block-aligned, sorted, not overlapping each other or any placement); {@code placements} say
 * where each file's bytes go; everything else reads as zeros. {@code skipped} are the files the
 * filesystem cannot hold, with the reason (a FAT file of 4 GiB or more, a name the filesystem
 * refuses, two names that collide on a case-insensitive filesystem).
 */
public record BuiltImage(long size, int blockSize, List<Written> metadata, List<Placement> placements,
    List<Skipped> skipped) {

  public BuiltImage {
    metadata = List.copyOf(metadata);
    placements = List.copyOf(placements);
    skipped = List.copyOf(skipped);
  }

  /** Bytes to write at offset of the image. */
  public record Written(long offset, byte[] bytes) {}

  /**
   * length bytes of file number {@code file} (an index into the tree's files), from fileOffset,
   * go at imageOffset of the image. A file of n bytes has placements covering [0, n) exactly.
   */
  public record Placement(int file, long fileOffset, long imageOffset, long length) {}

  /** File number {@code file} is not on the image, and why (a sentence naming the file). */
  public record Skipped(int file, String reason) {}

  /** The metadata bytes this image writes. */
  public long metadataBytes() {
    long total = 0;
    for (Written written : metadata) {
      total += written.bytes().length;
    }
    return total;
  }
}
