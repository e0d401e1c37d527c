package dev.remap.operator.swap;

import java.util.Optional;

/**
 * Where the operator reads a swap disk's counters. The one implementation today,
 * {@link NoSwapFigures}, knows none: the scraper of the node plugins' /metrics comes later, and
 * until then status carries no counters rather than made-up zeros.
 */
public interface SwapFiguresSource {

  /** The counters of the swap disk with this volume handle (swap/NS/NAME), or empty when unknown. */
  Optional<SwapFigures> figures(String volumeHandle);
}
