package dev.remap.engine.block;

import java.nio.ByteBuffer;

/**
 * The content a concurrency test writes into one block: a stamp that says which write put it
 * there (its id) and for which block, followed by bytes derived from both. Reading a block back
 * then tells which write it came from, and whether it is whole: a block that mixes two writes,
 * or holds another block's data, decodes as {@link #TORN}.
 */
final class BlockStamp {

  /** What an all-zero block decodes to: never written, trimmed, or zeroed. */
  static final long ZERO = 0;
  /** What a block decodes to when it is not exactly one write's stamp for that block, nor zeros. */
  static final long TORN = -1;

  private BlockStamp() {}

  /** Fills dst's next blockSize bytes with write id's stamp for block. */
  static void put(ByteBuffer dst, long id, long block, int blockSize) {
    dst.putLong(id).putLong(block);
    for (int i = 2; i < blockSize / Long.BYTES; i++) {
      dst.putLong(mix(id, block, i));
    }
  }

  /** The id of the write whose stamp for block fills src's next blockSize bytes; ZERO or TORN otherwise. */
  static long decode(ByteBuffer src, long block, int blockSize) {
    int start = src.position();
    long id = src.getLong(start);
    boolean zeros = true;
    boolean stamped = id > 0 && src.getLong(start + Long.BYTES) == block;
    for (int i = 0; i < blockSize / Long.BYTES; i++) {
      long word = src.getLong(start + i * Long.BYTES);
      zeros &= word == 0;
      if (i >= 2) {
        stamped &= word == mix(id, block, i);
      }
    }
    src.position(start + blockSize);
    return zeros ? ZERO : stamped ? id : TORN;
  }

  /** A splitmix64 step: different for every (id, block, word), so stale or shifted data never matches. */
  private static long mix(long id, long block, int word) {
    long z = id * 0x9E3779B97F4A7C15L + block * 0xC2B2AE3D27D4EB4FL + word;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
