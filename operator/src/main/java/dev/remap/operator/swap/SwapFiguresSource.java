package dev.remap.operator.swap;

/**
 * Where the operator reads a swap disk's counters: {@link NodeSwapFigures}, the CSI node plugin on
 * the node that runs the VM. An interface so that the reconciler is not tied to HTTP scraping.
 */
public interface SwapFiguresSource {

  /**
   * The counters of the swap disk with this volume handle (swap/NS/NAME) on this node. Returns
   * within a few seconds whatever the node does; never throws for a node that cannot be reached.
   */
  SwapReading read(String volumeHandle, String node);
}
