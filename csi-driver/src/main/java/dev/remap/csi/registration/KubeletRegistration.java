package dev.remap.csi.registration;

import dev.remap.csi.DriverConfig;
import dev.remap.csi.registration.spec.PluginRegistration.InfoRequest;
import dev.remap.csi.registration.spec.PluginRegistration.PluginInfo;
import dev.remap.csi.registration.spec.PluginRegistration.RegistrationStatus;
import dev.remap.csi.registration.spec.PluginRegistration.RegistrationStatusResponse;
import dev.remap.csi.registration.spec.RegistrationGrpc;
import dev.remap.csi.server.CsiServer;
import dev.remap.csi.server.Rpc;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The node plugin's registration with the kubelet, done in-process instead of by the
 * node-driver-registrar sidecar: the kubelet's plugin watcher sees
 * {@code DIR/csi.remap.dev-reg.sock} appear in its plugins_registry folder, asks GetInfo (which
 * names the CSI socket as the kubelet reaches it on the host) and tells the outcome with
 * NotifyRegistrationStatus. The socket is made only once the CSI socket serves (the kubelet calls
 * NodeGetInfo right after registering), a stale one left by a killed plugin is replaced (as
 * {@link CsiServer} does), and closing removes it, so the kubelet deregisters the plugin exactly
 * when it stops. A refusal is logged and reported by {@link #problem()}, which the /healthz
 * endpoint turns into a failing liveness probe (the sidecar exits in that case).
 *
 * <p>Thread-safe: the state is one volatile reference, written by gRPC's threads.
 */
public final class KubeletRegistration implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(KubeletRegistration.class.getName());

  /** The CSI versions the driver speaks, as the kubelet expects them. */
  static final List<String> SUPPORTED_VERSIONS = List.of("1.0.0");

  /** What the kubelet said last, and its value in the {@code remap_kubelet_registered} gauge. */
  public enum State {
    /** Not told yet: the kubelet has not found the socket, or has not decided. */
    PENDING(0),
    REGISTERED(1),
    REFUSED(-1);

    private final int value;

    State(int value) {
      this.value = value;
    }

    public int value() {
      return value;
    }
  }

  private record Status(State state, String error) {}

  private final CsiServer server;
  private final Service service;

  private KubeletRegistration(CsiServer server, Service service) {
    this.server = server;
    this.service = service;
  }

  /**
   * Serves the registration socket in dir, telling the kubelet to reach the driver at
   * csiEndpoint (a path on the host).
   */
  public static KubeletRegistration start(Path dir, Path csiEndpoint) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("--kubelet-registration-dir " + dir + " is not a folder: mount the kubelet's "
          + "plugin registry there (host /var/lib/kubelet/plugins_registry)");
    }
    Service service = new Service(csiEndpoint);
    Path socket = dir.resolve(DriverConfig.DRIVER_NAME + "-reg.sock");
    CsiServer server = CsiServer.start(socket, List.of(service));
    LOG.info(() -> "kubelet registration socket " + socket + " serves; the kubelet is to reach the driver at "
        + csiEndpoint);
    return new KubeletRegistration(server, service);
  }

  public Path socket() {
    return server.socket();
  }

  public State state() {
    return service.status.state();
  }

  /** Why the plugin is unhealthy as far as registration goes: the kubelet refused it. */
  public Optional<String> problem() {
    Status status = service.status;
    return status.state() == State.REFUSED
        ? Optional.of("the kubelet refused to register the plugin: " + status.error())
        : Optional.empty();
  }

  /** Removes the socket: the kubelet's plugin watcher deregisters the plugin. */
  @Override
  public void close() throws IOException {
    server.close();
  }

  /** The Registration service the kubelet calls. */
  private static final class Service extends RegistrationGrpc.RegistrationImplBase {
    private final Path csiEndpoint;
    private volatile Status status = new Status(State.PENDING, "");

    Service(Path csiEndpoint) {
      this.csiEndpoint = csiEndpoint;
    }

    @Override
    public void getInfo(InfoRequest request, StreamObserver<PluginInfo> out) {
      Rpc.answer(out, () -> PluginInfo.newBuilder()
          .setType("CSIPlugin")
          .setName(DriverConfig.DRIVER_NAME)
          .setEndpoint(csiEndpoint.toString())
          .addAllSupportedVersions(SUPPORTED_VERSIONS)
          .build());
    }

    @Override
    public void notifyRegistrationStatus(RegistrationStatus request, StreamObserver<RegistrationStatusResponse> out) {
      Rpc.answer(out, () -> {
        if (request.getPluginRegistered()) {
          status = new Status(State.REGISTERED, "");
          LOG.info(() -> "the kubelet registered " + DriverConfig.DRIVER_NAME + " at " + csiEndpoint);
        } else {
          String error = request.getError().isBlank() ? "no reason given" : request.getError();
          status = new Status(State.REFUSED, error);
          LOG.severe(() -> "the kubelet refused to register " + DriverConfig.DRIVER_NAME + " at " + csiEndpoint
              + ": " + error);
        }
        return RegistrationStatusResponse.getDefaultInstance();
      });
    }
  }
}
