package dev.remap.engine.block;

import java.io.IOException;

/**
 * A request a device refuses for a reason the client must be told apart from an I/O error: the
 * front-end maps the {@link Kind} to its own error number (NBD's EPERM, ESHUTDOWN) instead of
 * reading messages.
 */
public class DeviceException extends IOException {

  /** Why the request was refused. */
  public enum Kind {
    /** A write, trim or zeroing of a read-only device. */
    READ_ONLY,
    /** The device (or a layer of it) is closed or closing. */
    CLOSED
  }

  private final Kind kind;

  public DeviceException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public static DeviceException readOnly(String message) {
    return new DeviceException(Kind.READ_ONLY, message);
  }

  public static DeviceException closed(String message) {
    return new DeviceException(Kind.CLOSED, message);
  }

  public Kind kind() {
    return kind;
  }
}
