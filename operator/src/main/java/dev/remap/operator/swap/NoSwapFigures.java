package dev.remap.operator.swap;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/** Knows no counters: the node-metrics scraper is not written yet (docs/OPERATOR.md). */
@ApplicationScoped
public class NoSwapFigures implements SwapFiguresSource {

  @Override
  public Optional<SwapFigures> figures(String volumeHandle) {
    return Optional.empty();
  }
}
