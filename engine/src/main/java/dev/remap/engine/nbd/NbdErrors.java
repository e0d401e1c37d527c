package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;

import dev.remap.engine.block.DeviceException;
import dev.remap.engine.store.NoSpaceException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What a client is told when a request fails below the front-end: the protocol's error numbers. */
final class NbdErrors {

  private NbdErrors() {}

  /** The error reply to a request that failed: its errno, and the failure's message for humans. */
  static java.nio.ByteBuffer reply(RequestCodec.Request r, Throwable failure, boolean structured) {
    Throwable cause = unwrap(failure);
    return RequestCodec.error(r.handle(), errno(cause), commandName(r.type()) + " failed: " + cause.getMessage(),
        structured);
  }

  /** The failure itself, out of the wrappers a future adds. */
  static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /**
   * The errno a client gets for a failure of the layers below. A full disk or store is ENOSPC
   * wherever it sits in the cause chain: QEMU then pauses the VM instead of failing its I/O.
   */
  static int errno(Throwable cause) {
    if (cause instanceof IllegalArgumentException) {
      return EINVAL;
    }
    if (cause instanceof dev.remap.engine.export.GrowthRoom.PastTheEnd || causedBy(cause, NoSpaceException.class)) {
      return ENOSPC;
    }
    if (cause instanceof OutOfMemoryError) {
      return ENOMEM;
    }
    DeviceException refused = causeOf(cause, DeviceException.class);
    if (refused != null) {
      return switch (refused.kind()) {
        case READ_ONLY -> EPERM;
        case CLOSED -> ESHUTDOWN;
      };
    }
    return EIO;
  }

  /** The first of e and its causes that is a type, or null (a bounded walk: a cause chain may loop). */
  private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
    Throwable t = e;
    for (int depth = 0; t != null && depth < 32; depth++, t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /** Whether e or one of its causes is a type (a bounded walk: a cause chain may loop). */
  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    return causeOf(e, type) != null;
  }
}
