package dev.remap.engine.block;

import dev.remap.engine.export.StackSpec;
import java.util.Optional;

/**
 * The stack the NBD server serves a volume through when its RAM tier is off (a zero RAM cache):
 * the request queue over the volume, called from many threads at once.
 */
class ExportStackWithoutRamConcurrentTest extends ExportStackConcurrentTest {

  /** The server's queue capacity and merge size, four workers, and no RAM tier. */
  private static final StackSpec SPEC = new StackSpec(0, 4096, 4, 1024, 1 << 20, false, Optional.empty());

  @Override
  protected StackSpec spec() {
    return SPEC;
  }
}
