package dev.remap.engine.swap;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.BlockDeviceContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A swap disk, through the stack the server builds on it, keeps the block device contract while
 * most of its pages live in the spill file: its memoryLimit is an eighth of its size, so every
 * test spills and loads pages back. "Reopen" is a new connection's stack: the disk outlives it.
 */
class SwapStackTest extends BlockDeviceContract {

  @TempDir Path tmp;
  private SwapStacks swap;

  /** The disk's memoryLimit; the spill tier holds the rest. */
  protected long memoryLimit() {
    return SIZE / 8;
  }

  @Override
  protected BlockDevice create() throws Exception {
    swap = new SwapStacks(tmp, SIZE, memoryLimit());
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
