package dev.remap.engine.swap;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.export.ExportStack;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.nbd.NbdServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One swap disk "swap1" served through the stack the NBD server builds on it, for the contract
 * suites: a new stack stands for a new connection, and the disk outlives it.
 */
final class SwapStacks implements AutoCloseable {

  private static final StackSpec SPEC = NbdServer.Options.unix(Path.of("unused.sock")).stackDefaults();

  private final SwapExports exports;

  /** A disk of size bytes holding memoryLimit in the pool, with a spill tier in dir when that is less. */
  SwapStacks(Path dir, long size, long memoryLimit) throws IOException {
    exports = new SwapExports(new PagePool(size));
    Optional<SwapSpec.Spill> spill =
        memoryLimit < size ? Optional.of(new SwapSpec.Spill(dir, size)) : Optional.empty();
    exports.create(new SwapSpec("swap1", size, memoryLimit, spill, true, Optional.empty()));
  }

  /** A new stack on the disk, as a new connection gets. */
  BlockDevice stack() throws IOException {
    return ExportStack.build("swap1", exports.open("swap1", SPEC).orElseThrow(), SPEC);
  }

  /** Closes device (a stack) and returns a new one on the same disk. */
  BlockDevice reopen(BlockDevice device) throws IOException {
    device.close();
    return stack();
  }

  @Override
  public void close() throws IOException {
    exports.close();
  }
}
