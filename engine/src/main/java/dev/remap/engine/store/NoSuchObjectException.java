package dev.remap.engine.store;

import java.io.IOException;

/**
 * The object asked for does not exist. Checked, so that every caller decides what a missing
 * object means to it (a hole, a lost segment, a first start); it is not a store failure and is
 * not counted as one.
 */
public final class NoSuchObjectException extends IOException {

  private static final long serialVersionUID = 1L;

  private final String key;

  public NoSuchObjectException(String key, String store) {
    super("object " + key + " does not exist in " + store);
    this.key = key;
  }

  /** The missing key, relative to the store. */
  public String key() {
    return key;
  }
}
