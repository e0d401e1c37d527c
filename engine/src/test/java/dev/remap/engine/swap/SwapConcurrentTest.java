package dev.remap.engine.swap;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.ConcurrentContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A swap disk used from many threads at once (several connections to one disk), with a
 * memoryLimit of a quarter of its size, so that spills and loads race with reads, writes and
 * discards of the same pages.
 */
class SwapConcurrentTest extends ConcurrentContract {

  @TempDir Path tmp;
  private SwapStacks swap;

  @Override
  protected BlockDevice create() throws Exception {
    swap = new SwapStacks(tmp, SIZE, SIZE / 4);
    return swap.stack();
  }

  @Override
  protected BlockDevice reopen(BlockDevice device) throws Exception {
    return swap.reopen(device);
  }

  @AfterEach
  void removeDisks() throws Exception {
    swap.close();
  }
}
