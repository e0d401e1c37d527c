package dev.remap.csi;

import dev.remap.csi.controller.ClaimReader;
import dev.remap.csi.controller.ControllerService;
import dev.remap.csi.controller.StoreCollector;
import dev.remap.csi.identity.IdentityService;
import dev.remap.csi.server.CsiServer;
import dev.remap.csi.server.NameLocks;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.store.StoreUri;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import io.grpc.BindableService;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The CSI driver: the services the mode asks for, on one Unix socket. Wiring only; the services
 * hold the logic. Closing stops the server first (no new calls), then the node's served volumes,
 * then the store.
 */
public final class CsiDriver implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(CsiDriver.class.getName());

  private final CsiServer server;
  private final List<AutoCloseable> resources;

  private CsiDriver(CsiServer server, List<AutoCloseable> resources) {
    this.server = server;
    this.resources = resources;
  }

  public static CsiDriver start(DriverConfig config, String version) throws IOException {
    StoreUri uri = StoreUri.parse(config.store());
    ObjectStore store = ObjectStores.open(config.store());
    List<AutoCloseable> resources = new ArrayList<>();
    resources.add(store);
    try {
      // The node id also names this process in the store's volume leases: a volume staged on
      // another node is handed over to this one when it is used here (see docs/CSI.md).
      VolumeManager manager = new VolumeManager(store,
          VolumeOptions.defaults(config.journalDir()).withNode(config.nodeId()));
      Optional<Path> localRoot = uri instanceof StoreUri.File file ? Optional.of(file.root()) : Optional.empty();
      NameLocks locks = new NameLocks();
      // The node's NBD server owns the volumes it serves and offers no way to reach them, so the
      // controller opens volumes itself; one staged here is refused by the engine's lock.
      ServedVolumes served = ServedVolumes.NONE;
      List<BindableService> services = new ArrayList<>();
      services.add(new IdentityService(config.mode().controller(), version, store));
      if (config.mode().node()) {
        NodeWiring node = NodeWiring.start(config, manager, locks);
        resources.add(0, node);
        services.add(node.service());
      }
      if (config.mode().controller()) {
        Optional<ClaimReader> claims = ClaimReader.fromEnvironment(Optional.ofNullable(config.kubeconfig()));
        LOG.info(() -> claims.isPresent() ? "per-disk parameters: read from PVC annotations"
            : "per-disk parameters: no Kubernetes API configured, the StorageClass parameters apply");
        services.add(new ControllerService(manager, served, locks, config.store(), localRoot,
            localRoot.map(root -> config.nodeId()), claims.orElse(ClaimReader.NONE)));
        // Closed before the store (resources close in order).
        StoreCollector.start(store, config.gcInterval(), config.gcGrace()).ifPresent(c -> resources.add(0, c));
      }
      CsiServer server = CsiServer.start(config.socket(), services);
      LOG.info(() -> DriverConfig.DRIVER_NAME + " " + version + " serving " + config.mode() + " on " + config.socket()
          + " for node " + config.nodeId() + ", store " + store.describe());
      return new CsiDriver(server, resources);
    } catch (IOException | RuntimeException e) {
      closeAll(resources);
      throw e;
    }
  }

  public Path socket() {
    return server.socket();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() throws IOException {
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
