package dev.remap.operator.swap;

import java.util.Optional;

/**
 * What asking a node for one swap disk's counters gave: the counters (the node serves the disk),
 * nothing (it answered and does not serve it, or no node runs the VM), or no answer (the node
 * plugin could not be found, reached or understood: {@link #unreachable} says why).
 */
public record SwapReading(Optional<SwapFigures> figures, String unreachable) {

  public static SwapReading served(SwapFigures figures) {
    return new SwapReading(Optional.of(figures), null);
  }

  /** The disk exists on no node that was asked: its pages, and so its counters, are gone. */
  public static SwapReading notServed() {
    return new SwapReading(Optional.empty(), null);
  }

  public static SwapReading unreachable(String why) {
    return new SwapReading(Optional.empty(), why);
  }

  /**
   * The counters status should show: the node's answer when there is one; without an answer the
   * last counters status showed, since a node that does not answer a scrape for a moment most
   * likely still serves the disk, and dropping and bringing back the counters would only churn
   * the status. They stay until a node answers again or the VM stops.
   */
  public Optional<SwapFigures> orLast(Optional<SwapFigures> last) {
    return unreachable == null ? figures : last;
  }
}
