package dev.remap.csi;

import dev.remap.engine.volume.Volume;
import java.util.Optional;

/**
 * The volumes this process serves right now (staged by the node service). A served volume holds
 * its OS lock, so the controller must not open it a second time: it snapshots and grows the
 * served {@link Volume} itself, and refuses to delete it.
 *
 * <p>Today the node's NBD server owns the volumes it serves and does not hand them out, so the
 * driver wires {@link #NONE} and the engine's lock refuses a snapshot, growth or deletion of a
 * staged volume (FAILED_PRECONDITION); this is the seam where the node plugs the served volumes
 * in once the NBD server exposes them (docs/CSI.md, "Known gaps").
 *
 * <p>Implementations are thread-safe. A returned volume may be unstaged at any moment after the
 * call; callers hold the volume's name lock (see {@link dev.remap.csi.server.NameLocks}), which the
 * node service also takes before it unstages, so within that lock the volume stays open.
 */
public interface ServedVolumes {

  Optional<Volume> served(String volumeName);

  /** No volume is served: the controller-only process. */
  ServedVolumes NONE = name -> Optional.empty();
}
