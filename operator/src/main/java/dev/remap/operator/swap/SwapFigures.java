package dev.remap.operator.swap;

import dev.remap.api.swap.VmMemorySwapStatus;
import java.util.Optional;

/**
 * The counters of one swap disk as the node serving it publishes them (the node plugin's
 * remap_swap_*{disk="swap/NS/NAME"} metrics): what status reports beside the conditions. The ten
 * travel together, into a status and back out of one, so that none is carried over without the others.
 */
public record SwapFigures(long residentBytes, long spilledBytes, long swapOuts, long swapIns, long remaps,
    long pagesReleased, long spillWrites, long spillLoads, long discards, long bytesCopied) {

  /** The counters a status holds; empty when it holds none (or, written by hand, not all ten). */
  public static Optional<SwapFigures> of(VmMemorySwapStatus s) {
    if (s == null || s.residentBytes == null || s.spilledBytes == null || s.swapOuts == null || s.swapIns == null
        || s.remaps == null || s.pagesReleased == null || s.spillWrites == null || s.spillLoads == null
        || s.discards == null || s.bytesCopied == null) {
      return Optional.empty();
    }
    return Optional.of(new SwapFigures(s.residentBytes, s.spilledBytes, s.swapOuts, s.swapIns, s.remaps,
        s.pagesReleased, s.spillWrites, s.spillLoads, s.discards, s.bytesCopied));
  }

  /** Writes the ten counters into a status. */
  public void copyTo(VmMemorySwapStatus s) {
    s.residentBytes = residentBytes;
    s.spilledBytes = spilledBytes;
    s.swapOuts = swapOuts;
    s.swapIns = swapIns;
    s.remaps = remaps;
    s.pagesReleased = pagesReleased;
    s.spillWrites = spillWrites;
    s.spillLoads = spillLoads;
    s.discards = discards;
    s.bytesCopied = bytesCopied;
  }
}
