package dev.remap.csi.node;

import dev.remap.csi.server.NameLocks;
import dev.remap.engine.volume.VolumeManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts the node service: reads what a previous run staged and serves each of those volumes
 * again (see {@link NodeHost#recover}). A volume that cannot be recovered is logged and kept in
 * the state, so that NodeUnstageVolume can still undo it; the plugin starts either way.
 */
public final class NodeStartup {

  private static final Logger LOG = Logger.getLogger(NodeStartup.class.getName());

  private NodeStartup() {}

  /** The RAM cache sizes that volumes staged by a previous run asked for, by volume. */
  public static Map<String, Long> ramCacheSizes(Path stateDir) throws IOException {
    Map<String, Long> sizes = new HashMap<>();
    for (StagedVolume staged : NodeState.load(stateDir).all()) {
      staged.ramCache().ifPresent(bytes -> sizes.put(staged.volume(), bytes));
    }
    return sizes;
  }

  public static NodeService start(String nodeId, Path stateDir, VolumeManager volumes, NameLocks locks,
      NodeHost host) throws IOException {
    NodeState state = NodeState.load(stateDir);
    for (StagedVolume staged : List.copyOf(state.all())) {
      try {
        state.put(host.recover(staged));
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.WARNING, "cannot serve staged volume " + staged.volume() + " again: " + e.getMessage(), e);
      }
    }
    return new NodeService(nodeId, volumes, locks, host, state);
  }
}
