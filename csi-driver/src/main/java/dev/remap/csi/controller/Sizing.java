package dev.remap.csi.controller;

import dev.remap.engine.core.Geometry;
import dev.remap.csi.server.Rpc;
import dev.remap.csi.spec.Csi.CapacityRange;
import dev.remap.engine.core.Sizes;

/**
 * Turns a CSI capacity range into a volume size (pure). Sizes are rounded up to the block size;
 * a range that no multiple of the block size satisfies, or that exceeds the largest volume, is
 * OUT_OF_RANGE; a negative bound is INVALID_ARGUMENT.
 */
public final class Sizing {

  /** What a volume gets when the request gives no capacity. */
  public static final long DEFAULT_SIZE = 1L << 30;


  private Sizing() {}

  public static long maxSize(int chunkSize) {
    return Geometry.MAX_CHUNKS * chunkSize;
  }

  /** The size of a new volume: the smallest block multiple ≥ required, within limit. */
  public static long sizeFor(String field, CapacityRange range, int blockSize, int chunkSize) {
    long required = range.getRequiredBytes();
    long limit = range.getLimitBytes();
    check(field, required, limit);
    long size;
    if (required == 0) {
      size = limit == 0 ? DEFAULT_SIZE : Math.min(DEFAULT_SIZE, roundDown(limit, blockSize));
    } else {
      size = roundUp(required, blockSize);
    }
    if (size == 0 || (limit != 0 && size > limit)) {
      throw Rpc.outOfRange(field + ": no multiple of the block size " + blockSize + " lies between "
          + required + " and " + limit + " bytes");
    }
    if (size > maxSize(chunkSize)) {
      throw Rpc.outOfRange(field + ": " + Sizes.format(size) + " is larger than the largest volume with "
          + Sizes.format(chunkSize) + " chunks, " + Sizes.format(maxSize(chunkSize)));
    }
    return size;
  }

  /** Does an existing size satisfy the range? (A repeated CreateVolume must get the same volume.) */
  public static boolean satisfies(CapacityRange range, long size) {
    return size >= range.getRequiredBytes() && (range.getLimitBytes() == 0 || size <= range.getLimitBytes());
  }

  static void check(String field, long required, long limit) {
    if (required < 0 || limit < 0) {
      throw Rpc.invalid(field + ": required_bytes and limit_bytes must not be negative");
    }
    if (limit != 0 && required > limit) {
      throw Rpc.invalid(field + ": required_bytes " + required + " is larger than limit_bytes " + limit);
    }
  }

  static long roundUp(long bytes, int blockSize) {
    long rounded = (bytes + blockSize - 1) / blockSize * blockSize;
    if (rounded < bytes) {
      throw Rpc.outOfRange("a size of " + bytes + " bytes cannot be rounded to the block size");
    }
    return rounded;
  }

  static long roundDown(long bytes, int blockSize) {
    return bytes / blockSize * blockSize;
  }
}
