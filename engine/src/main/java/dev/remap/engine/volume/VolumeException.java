package dev.remap.engine.volume;

import java.io.IOException;

/** A request about volumes that cannot be done as asked; the message says why, for a user. */
public final class VolumeException extends IOException {
  public VolumeException(String message) {
    super(message);
  }
}
