package dev.remap.engine.cache;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Reads bytes of immutable store objects; the disk cache tier sits behind this. */
@FunctionalInterface
public interface ObjectReader {

  /** Fills dst's remaining bytes from offset of object key, or fails. */
  void readFully(String key, long offset, ByteBuffer dst) throws IOException;

  /**
   * As {@link #readFully} if the bytes are here without waiting on a network (a local-disk tier's
   * blocks); false otherwise, dst's remaining bytes unspecified. The default: never.
   */
  default boolean readIfLocal(String key, long offset, ByteBuffer dst) throws IOException {
    return false;
  }
}
