package dev.remap.engine.block;

import dev.remap.engine.export.ExportStack;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.export.VolumeExports;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stack the NBD server serves a volume through (RAM tier tried first, then the request queue
 * over the RAM cache over the volume), called from many threads at once.
 */
class ExportStackConcurrentTest extends ConcurrentContract {

  /**
   * The server's page, queue capacity and merge size, four workers, and a RAM tier smaller than
   * the blocks the clients use, so that pages are evicted and filled again while they run.
   */
  private static final StackSpec SPEC = new StackSpec(1 << 20, 4096, 4, 1024, 1 << 20, false, Optional.empty());

  /** The stack's settings; a subclass runs the same test on another. */
  protected StackSpec spec() {
    return SPEC;
  }

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;

  @Override
  protected BlockDevice create() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
        .withJournal(32 << 20, 4 << 20).withSegments(256 << 10, Duration.ofMillis(20), 3));
    volumes.create("disk", SIZE, 4096, 64 << 10);
    return stack();
  }

  /** Built exactly as the server builds an export's stack. */
  private BlockDevice stack() throws IOException {
    StackSpec spec = spec();
    return ExportStack.build("disk", new VolumeExports(volumes).open("disk", spec).orElseThrow(), spec);
  }

  @Override
  protected BlockDevice reopen(BlockDevice device) throws Exception {
    device.close();
    return stack();
  }

  @AfterEach
  void closeStore() throws Exception {
    store.close();
  }
}
