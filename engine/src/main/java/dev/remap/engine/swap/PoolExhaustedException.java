package dev.remap.engine.swap;

import java.io.IOException;

/** The node's swap pool cannot promise a new swap disk its memory limit beside the disks it holds. */
public final class PoolExhaustedException extends IOException {

  private static final long serialVersionUID = 1L;

  public PoolExhaustedException(String message) {
    super(message);
  }
}
