package dev.remap.engine.store;

import java.time.Instant;
import java.util.Objects;

/** What a store knows about one object: its key (relative to the store), size and last change. */
public record ObjectInfo(String key, long size, Instant lastModified) {

  public ObjectInfo {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(lastModified, "lastModified");
    if (size < 0) {
      throw new IllegalArgumentException("negative size " + size + " for object " + key);
    }
  }
}
