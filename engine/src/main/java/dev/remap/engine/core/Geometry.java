package dev.remap.engine.core;

/**
 * The shape of a volume: its size, the logical block size clients must align to (512 or 4096)
 * and the chunk size (the virtual storage unit the mapping table is indexed by, a power of two
 * from 64 KiB to 64 MiB). Validation errors name the field so that a user can fix the request.
 */
public record Geometry(long size, int blockSize, int chunkSize) {

  public static final int DEFAULT_BLOCK_SIZE = 4096;
  public static final int DEFAULT_CHUNK_SIZE = 1 << 20;
  public static final int MIN_CHUNK_SIZE = 64 << 10;
  public static final int MAX_CHUNK_SIZE = 64 << 20;
  /**
   * The most chunks a volume is meant to have: the mapping table holds one reference per chunk
   * in memory, so 2^24 chunks (16 TiB at the default 1 MiB chunk) keeps it near 128 MiB.
   */
  public static final long MAX_CHUNKS = 1L << 24;

  public Geometry {
    if (blockSize != 512 && blockSize != 4096) {
      throw new IllegalArgumentException("block size must be 512 or 4096, not " + blockSize);
    }
    if (Integer.bitCount(chunkSize) != 1 || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw new IllegalArgumentException(
          "chunk size must be a power of two from 64K to 64M, not " + Sizes.format(chunkSize));
    }
    if (size <= 0) {
      throw new IllegalArgumentException("size must be positive, not " + size);
    }
    if (size % blockSize != 0) {
      throw new IllegalArgumentException(
          "size " + Sizes.format(size) + " is not a multiple of the block size " + blockSize);
    }
  }

  /** The largest size this volume is meant to grow to (see {@link #MAX_CHUNKS}). */
  public long maxSize() {
    return MAX_CHUNKS * chunkSize;
  }

  public long chunkCount() {
    return (size + chunkSize - 1) / chunkSize;
  }

  public long chunkIndex(long offset) {
    return offset / chunkSize;
  }

  public long chunkStart(long index) {
    return index * chunkSize;
  }

  /** The same volume grown (or kept) to newSize; shrinking would drop data and is refused. */
  public Geometry resize(long newSize) {
    if (newSize < size) {
      throw new IllegalArgumentException("size can only grow: " + Sizes.format(newSize)
          + " is smaller than the current " + Sizes.format(size));
    }
    return new Geometry(newSize, blockSize, chunkSize);
  }
}
