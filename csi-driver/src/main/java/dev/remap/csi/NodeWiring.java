package dev.remap.csi;

import dev.remap.csi.node.NodeHost;
import dev.remap.csi.node.NodeService;
import dev.remap.csi.node.NodeStartup;
import dev.remap.csi.server.NameLocks;
import dev.remap.engine.nbd.NbdServer;
import dev.remap.engine.volume.VolumeManager;
import io.grpc.BindableService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The node side: this node's NBD server (every volume of the store on a Unix socket in the state
 * folder; nbdfuse connects to it), the node service, and the recovery of what a previous run
 * staged. The NBD server opens a volume when its device attaches and closes it when the device
 * goes, so staged volumes hold the engine's single-writer lock and nothing else does.
 */
final class NodeWiring implements AutoCloseable {

  private final NodeService service;
  private final NbdServer nbd;

  private NodeWiring(NodeService service, NbdServer nbd) {
    this.service = service;
    this.nbd = nbd;
  }

  static NodeWiring start(DriverConfig config, VolumeManager manager, NameLocks locks) throws IOException {
    Files.createDirectories(config.stateDir());
    Path socket = config.stateDir().resolve("nbd.sock");
    // Devices of volumes staged by a previous run reconnect as soon as the socket is there: their
    // RAM cache sizes must be in place before it is.
    NodeStartup startup = NodeStartup.load(config.stateDir());
    NbdServer nbd = NbdServer.start(manager, NbdServer.Options.unix(socket), startup.ramCacheSizes());
    try {
      NodeHost host = new NodeHost(socket, config.stateDir().resolve("fuse"), manager, config.journalDir(),
          nbd::ramCacheFor);
      NodeService service = startup.start(config.nodeId(), manager, locks, host);
      return new NodeWiring(service, nbd);
    } catch (RuntimeException e) {
      nbd.close();
      throw e;
    }
  }

  BindableService service() {
    return service;
  }

  @Override
  public void close() {
    nbd.close();
  }
}
