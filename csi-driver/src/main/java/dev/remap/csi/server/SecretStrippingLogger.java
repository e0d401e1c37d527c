package dev.remap.csi.server;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import dev.remap.csi.spec.Csi;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Logs every call: method, request and outcome. Fields the CSI spec marks {@code csi_secret}
 * (the secrets maps of every request) are replaced by their key names before a request is
 * printed, wherever they are nested, so no secret value reaches a log. Mount flags may carry
 * credentials too (the spec says so) and are masked the same way. Probe requests, which the
 * health endpoint makes every few seconds, are logged at FINE.
 */
public final class SecretStrippingLogger implements ServerInterceptor {

  private static final Logger LOG = Logger.getLogger("dev.remap.csi.rpc");
  private static final String MASK = "***stripped***";

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getBareMethodName();
    // Probe is asked every few seconds by the health endpoint (the kubelet's liveness probe):
    // logged only when it fails, or at FINE.
    Level requests = method.equals("Probe") ? Level.FINE : Level.INFO;
    long start = System.nanoTime();
    ServerCall<Q, R> logged = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (status.isOk()) {
          LOG.fine(() -> method + " OK in " + ms + " ms");
        } else {
          LOG.log(status.getCode() == Status.Code.INTERNAL ? Level.WARNING : Level.INFO,
              () -> method + " " + status.getCode() + " in " + ms + " ms: " + status.getDescription());
        }
        super.close(status, trailers);
      }
    };
    return new SimpleForwardingServerCallListener<>(next.startCall(logged, headers)) {
      @Override
      public void onMessage(Q message) {
        if (message instanceof Message m && LOG.isLoggable(requests)) {
          LOG.log(requests, method + " " + TextFormat.printer().emittingSingleLine(true).printToString(stripped(m)));
        }
        super.onMessage(message);
      }
    };
  }

  /** The message with every secret value replaced (a copy; the request itself is untouched). */
  public static Message stripped(Message message) {
    Message.Builder copy = message.toBuilder();
    for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
      FieldDescriptor fd = field.getKey();
      if (isSecret(fd)) {
        copy.clearField(fd);
        if (fd.isMapField()) {
          for (Object entry : (Iterable<?>) field.getValue()) {
            Message e = (Message) entry;
            FieldDescriptor key = e.getDescriptorForType().findFieldByName("key");
            FieldDescriptor value = e.getDescriptorForType().findFieldByName("value");
            copy.addRepeatedField(fd, e.toBuilder().setField(key, e.getField(key)).setField(value, MASK).build());
          }
        } else if (fd.isRepeated()) {
          for (int i = 0; i < message.getRepeatedFieldCount(fd); i++) {
            copy.addRepeatedField(fd, MASK);
          }
        }
      } else if (fd.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !fd.isMapField()) {
        if (fd.isRepeated()) {
          copy.clearField(fd);
          for (Object item : (Iterable<?>) field.getValue()) {
            copy.addRepeatedField(fd, stripped((Message) item));
          }
        } else {
          copy.setField(fd, stripped((Message) field.getValue()));
        }
      }
    }
    return copy.build();
  }

  private static boolean isSecret(FieldDescriptor fd) {
    return fd.getOptions().getExtension(Csi.csiSecret)
        || (fd.getName().equals("mount_flags") && fd.getContainingType().getName().equals("MountVolume"));
  }
}
