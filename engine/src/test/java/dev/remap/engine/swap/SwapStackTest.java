package dev.remap.engine.swap;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.BlockDeviceContract;
import dev.remap.engine.export.ExportStack;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.nbd.NbdServer;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A swap disk, through the stack the server builds on it, keeps the block device contract while
 * most of its pages live in the spill file: its memoryLimit is an eighth of its size, so every
 * test spills and loads pages back. "Reopen" is a new connection's stack: the disk outlives it.
 */
class SwapStackTest extends BlockDeviceContract {

  private static final StackSpec SPEC = NbdServer.Options.unix(Path.of("unused.sock")).stackDefaults();

  @TempDir Path tmp;
  private SwapExports exports;

  /** The disk's memoryLimit; the spill tier holds the rest. */
  protected long memoryLimit() {
    return SIZE / 8;
  }

  @Override
  protected BlockDevice create() throws Exception {
    exports = new SwapExports(new PagePool(SIZE));
    long memory = memoryLimit();
    Optional<SwapSpec.Spill> spill = memory < SIZE ? Optional.of(new SwapSpec.Spill(tmp, SIZE)) : Optional.empty();
    exports.create(new SwapSpec("swap1", SIZE, memory, spill, true, Optional.empty()));
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

  /** The same contract with every page in memory: no spill tier at all. */
  static class WithoutSpillTest extends SwapStackTest {
    @Override
    protected long memoryLimit() {
      return SIZE;
    }
  }
}
