package dev.remap.csi.server;

import dev.remap.engine.store.StoreException;
import dev.remap.engine.volume.VolumeException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs one unary RPC and answers it. Services throw a {@link StatusRuntimeException} with the
 * right code where an error starts ({@link #invalid}, {@link #notFound}, ...); what escapes
 * unclassified is mapped here, once: an unreachable store is UNAVAILABLE (the CO retries), a
 * request the engine refuses is FAILED_PRECONDITION with the engine's sentence, anything else is
 * INTERNAL. Nothing a request does takes the process down.
 */
public final class Rpc {

  private static final Logger LOG = Logger.getLogger(Rpc.class.getName());

  /** The body of an RPC. */
  @FunctionalInterface
  public interface Body<T> {
    T run() throws Exception;
  }

  private Rpc() {}

  public static <T> void answer(StreamObserver<T> observer, Body<T> body) {
    T response;
    try {
      response = body.run();
    } catch (Throwable e) {
      observer.onError(toStatus(e).asRuntimeException());
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }

  static Status toStatus(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return s.getStatus();
    }
    if (e instanceof StoreException s) {
      return (s.isTransient() ? Status.UNAVAILABLE : Status.FAILED_PRECONDITION).withDescription(s.getMessage());
    }
    if (e instanceof VolumeException) {
      return Status.FAILED_PRECONDITION.withDescription(e.getMessage());
    }
    if (e instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(e.getMessage());
    }
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
      return Status.ABORTED.withDescription("interrupted: the driver is shutting down");
    }
    LOG.log(Level.WARNING, "unexpected failure of an RPC", e);
    String what = e instanceof IOException ? "I/O error: " : e.getClass().getSimpleName() + ": ";
    return Status.INTERNAL.withDescription(what + e.getMessage());
  }

  public static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  public static StatusRuntimeException notFound(String message) {
    return Status.NOT_FOUND.withDescription(message).asRuntimeException();
  }

  public static StatusRuntimeException alreadyExists(String message) {
    return Status.ALREADY_EXISTS.withDescription(message).asRuntimeException();
  }

  public static StatusRuntimeException outOfRange(String message) {
    return Status.OUT_OF_RANGE.withDescription(message).asRuntimeException();
  }

  public static StatusRuntimeException failedPrecondition(String message) {
    return Status.FAILED_PRECONDITION.withDescription(message).asRuntimeException();
  }

  public static StatusRuntimeException unavailable(String message) {
    return Status.UNAVAILABLE.withDescription(message).asRuntimeException();
  }

  /** A required string field: present and non-blank, else INVALID_ARGUMENT naming it. */
  public static String required(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw invalid(field + " is required");
    }
    return value;
  }
}
