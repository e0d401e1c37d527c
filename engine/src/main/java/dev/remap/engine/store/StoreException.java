package dev.remap.engine.store;

import java.io.IOException;
import java.util.Objects;

/**
 * The store itself failed: it cannot be reached, it refused the credentials, the bucket or folder
 * is missing, or it answered with an error. The message is one sentence a user can act on; it
 * never contains a secret. {@link #reason()} lets a caller (a health probe, a retry loop) tell the
 * cases apart without parsing the message.
 */
public final class StoreException extends IOException {

  private static final long serialVersionUID = 1L;

  /** Why the store failed, coarse enough for a probe to report and for a caller to decide to retry. */
  public enum Reason {
    /**
     * The endpoint could not be reached, did not answer in time, or answered that it is unwell
     * (5xx after retries): usually transient.
     */
    UNREACHABLE,
    /** The credentials are missing or were rejected: needs a configuration change. */
    CREDENTIALS,
    /** The credentials are valid but lack a permission. */
    ACCESS_DENIED,
    /** The bucket (or the file store's folder) does not exist. */
    NO_BUCKET,
    /** Any other error the store answered with. */
    FAILED
  }

  private final Reason reason;

  public StoreException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public StoreException(Reason reason, String message) {
    this(reason, message, null);
  }

  public Reason reason() {
    return reason;
  }

  /** True when trying again later may succeed without anyone changing anything. */
  public boolean isTransient() {
    return reason == Reason.UNREACHABLE;
  }
}
