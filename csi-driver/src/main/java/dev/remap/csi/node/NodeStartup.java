package dev.remap.csi.node;

import dev.remap.csi.server.NameLocks;
import dev.remap.engine.swap.SwapSpec;
import dev.remap.engine.volume.VolumeManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts the node service: reads what a previous run staged and serves each of those volumes
 * again (see {@link NodeHost#recover}). A volume that cannot be recovered is logged and kept in
 * the state, so that NodeUnstageVolume can still undo it; the plugin starts either way. A swap
 * volume's disk is made again, empty (see {@link SwapVolumes}).
 */
public final class NodeStartup {

  private static final Logger LOG = Logger.getLogger(NodeStartup.class.getName());

  private final NodeState state;

  private NodeStartup(NodeState state) {
    this.state = state;
  }

  /** Reads what a previous run staged (once: the NBD server and the recovery both need it). */
  public static NodeStartup load(Path stateDir) throws IOException {
    return new NodeStartup(NodeState.load(stateDir));
  }

  /** The cache sizes that volumes staged by a previous run asked for, by volume. */
  public Map<String, CacheSizes> cacheSizes() {
    Map<String, CacheSizes> sizes = new HashMap<>();
    for (StagedVolume staged : state.all()) {
      if (staged.swap().isEmpty()) {
        sizes.put(staged.volume(), staged.caches());
      }
    }
    return sizes;
  }

  /**
   * The swap disks of swap volumes a previous run staged: their pages died with it, so they are
   * made again, empty ({@link SwapVolumes#remake}), before the NBD server starts.
   */
  public List<SwapSpec> swapDisks() {
    List<SwapSpec> specs = new ArrayList<>();
    for (StagedVolume staged : state.all()) {
      staged.swap().ifPresent(specs::add);
    }
    return specs;
  }

  public NodeService start(String nodeId, VolumeManager volumes, NameLocks locks, NodeHost host,
      SwapVolumes swaps) {
    for (StagedVolume staged : List.copyOf(state.all())) {
      try {
        state.put(staged.swap().isPresent() ? swaps.recover(staged, host) : host.recover(staged));
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.WARNING, "cannot serve staged volume " + staged.volume() + " again: " + e.getMessage(), e);
      }
    }
    return new NodeService(nodeId, volumes, locks, host, swaps, state);
  }
}
