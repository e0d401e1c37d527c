package dev.remap.csi;

import dev.remap.csi.controller.ClaimReader;
import dev.remap.csi.controller.ControllerService;
import dev.remap.engine.volume.StoreCollector;
import dev.remap.csi.http.HttpEndpoint;
import dev.remap.csi.identity.IdentityService;
import dev.remap.csi.registration.KubeletRegistration;
import dev.remap.csi.server.CsiProbe;
import dev.remap.csi.server.CsiServer;
import dev.remap.csi.server.NameLocks;
import dev.remap.engine.metrics.EngineMetrics;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.store.StoreUri;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import io.grpc.BindableService;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The CSI driver: the services the mode asks for, on one Unix socket; in node mode, the kubelet
 * registration socket once that one serves; and /healthz and /metrics over HTTP. Wiring only; the
 * services hold the logic. Closing stops the HTTP endpoint and the registration first (the kubelet
 * deregisters the plugin), then the server (no new calls), then the node's served volumes, then
 * the store.
 */
public final class CsiDriver implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(CsiDriver.class.getName());

  private final CsiServer server;
  /** Closed before the server, in order: HTTP endpoint, kubelet registration. */
  private final List<AutoCloseable> front;
  /** Closed after the server, in order. */
  private final List<AutoCloseable> resources;
  private final Optional<KubeletRegistration> registration;
  private final Optional<HttpEndpoint> http;
  private final PrometheusMeterRegistry metrics;

  private CsiDriver(CsiServer server, List<AutoCloseable> front, List<AutoCloseable> resources,
      Optional<KubeletRegistration> registration, Optional<HttpEndpoint> http, PrometheusMeterRegistry metrics) {
    this.server = server;
    this.front = front;
    this.resources = resources;
    this.registration = registration;
    this.http = http;
    this.metrics = metrics;
  }

  public static CsiDriver start(DriverConfig config, String version) throws IOException {
    StoreUri uri = StoreUri.parse(config.store());
    ObjectStore store = ObjectStores.open(config.store());
    List<AutoCloseable> resources = new ArrayList<>();
    List<AutoCloseable> front = new ArrayList<>();
    resources.add(store);
    CsiServer server = null;
    try {
      PrometheusMeterRegistry registry = HttpEndpoint.registry();
      EngineMetrics metrics = new EngineMetrics(registry).store(store.describe(), store);
      // The node id also names this process in the store's volume leases: a volume staged on
      // another node is handed over to this one when it is used here (see docs/CSI.md).
      VolumeManager manager = new VolumeManager(store,
          VolumeOptions.defaults(config.journalDir()).withNode(config.nodeId()).withCleaning(config.cleaning()));
      // Closed before the store, after the node's served volumes (added in front later).
      resources.add(0, manager::stopCollecting);
      Optional<Path> localRoot = uri instanceof StoreUri.File file ? Optional.of(file.root()) : Optional.empty();
      NameLocks locks = new NameLocks();
      List<BindableService> services = new ArrayList<>();
      services.add(new IdentityService(config.mode().controller(), version, store));
      Optional<NodeWiring> node = Optional.empty();
      if (config.mode().node()) {
        node = Optional.of(NodeWiring.start(config, manager, locks, metrics));
        resources.add(0, node.get());
        services.add(node.get().service());
      }
      if (config.mode().controller()) {
        Optional<ClaimReader> claims = ClaimReader.fromEnvironment(Optional.ofNullable(config.kubeconfig()));
        LOG.info(() -> claims.isPresent() ? "per-disk parameters: read from PVC annotations"
            : "per-disk parameters: no Kubernetes API configured, the StorageClass parameters apply");
        services.add(new ControllerService(manager, locks, config.store(), localRoot,
            localRoot.map(root -> config.nodeId()), claims.orElse(ClaimReader.NONE)));
        // Closed before the store (resources close in order).
        StoreCollector.start(store, config.gcInterval(), config.gcGrace()).ifPresent(c -> resources.add(0, c));
      }
      server = CsiServer.start(config.socket(), services);
      LOG.info(() -> DriverConfig.DRIVER_NAME + " " + version + " serving " + config.mode() + " on " + config.socket()
          + " for node " + config.nodeId() + ", store " + store.describe());
      // After the CSI socket serves: the kubelet calls NodeGetInfo as soon as it registers the plugin.
      Optional<KubeletRegistration> registration = Optional.empty();
      if (config.registrationDir() != null) {
        registration = Optional.of(KubeletRegistration.start(config.registrationDir(), config.kubeletCsiEndpoint()));
        front.add(0, registration.get());
        Gauge.builder("remap.kubelet.registered", registration.get(), r -> r.state().value())
            .description("The kubelet's answer to the plugin's registration: 1 registered, 0 not yet, -1 refused.")
            .strongReference(true).register(registry);
      }
      Optional<HttpEndpoint> http = Optional.empty();
      if (config.http() != null) {
        CsiProbe probe = new CsiProbe(config.socket());
        resources.add(0, probe);
        http = HttpEndpoint.start(config.http(), registry, health(probe, node, registration));
        http.ifPresent(endpoint -> front.add(0, endpoint));
      }
      return new CsiDriver(server, front, resources, registration, http, registry);
    } catch (IOException | RuntimeException e) {
      closeAll(front);
      if (server != null) {
        server.close();
      }
      closeAll(resources);
      throw e;
    }
  }

  /**
   * Healthy when the CSI server answers a Probe over its own socket (which checks the store), the
   * node's NBD server runs, and the kubelet did not refuse the registration; else the first reason.
   */
  private static HttpEndpoint.Health health(CsiProbe probe, Optional<NodeWiring> node,
      Optional<KubeletRegistration> registration) {
    return () -> probe.problem()
        .or(() -> node.flatMap(NodeWiring::problem))
        .or(() -> registration.flatMap(KubeletRegistration::problem));
  }

  public Path socket() {
    return server.socket();
  }

  /** The kubelet registration, when the driver was given a registration folder. */
  public Optional<KubeletRegistration> registration() {
    return registration;
  }

  /** Where /healthz and /metrics listen, when they do. */
  public Optional<InetSocketAddress> httpAddress() {
    return http.map(HttpEndpoint::address);
  }

  /** The driver's meters, as /metrics shows them. */
  public PrometheusMeterRegistry metrics() {
    return metrics;
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() throws IOException {
    closeAll(front);
    try {
      server.close();
    } finally {
      closeAll(resources);
    }
  }

  private static void closeAll(List<AutoCloseable> resources) {
    for (AutoCloseable resource : resources) {
      try {
        resource.close();
      } catch (Exception e) {
        LOG.warning("closing " + resource + ": " + e.getMessage());
      }
    }
  }
}
