package dev.remap.engine.swap;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.ConcurrentContract;
import dev.remap.engine.export.ExportStack;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.nbd.NbdServer;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A swap disk used from many threads at once (several connections to one disk), with a
 * memoryLimit of a quarter of its size, so that spills and loads race with reads, writes and
 * discards of the same pages.
 */
class SwapConcurrentTest extends ConcurrentContract {

  private static final StackSpec SPEC = NbdServer.Options.unix(Path.of("unused.sock")).stackDefaults();

  @TempDir Path tmp;
  private SwapExports exports;

  @Override
  protected BlockDevice create() throws Exception {
    exports = new SwapExports(new PagePool(SIZE));
    exports.create(new SwapSpec("swap1", SIZE, SIZE / 4, Optional.of(new SwapSpec.Spill(tmp, SIZE)), true,
        Optional.empty()));
    return stack();
  }

  private BlockDevice stack() throws Exception {
    return ExportStack.build("swap1", exports.open("swap1", SPEC).orElseThrow(), SPEC);
  }

  @Override
  protected BlockDevice reopen(BlockDevice device) throws Exception {
    device.close();
    return stack();
  }

  @AfterEach
  void removeDisks() throws Exception {
    exports.close();
  }
}
