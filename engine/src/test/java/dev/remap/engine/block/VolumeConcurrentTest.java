package dev.remap.engine.block;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** A volume alone, called from many threads at once, with its uploader and cleaner running under them. */
class VolumeConcurrentTest extends ConcurrentContract {

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;

  @Override
  protected BlockDevice create() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    // Small segments, a short upload delay and frequent checkpoints: the uploader moves the
    // mapping from journal to store while the clients run.
    volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
        .withJournal(32 << 20, 4 << 20).withSegments(256 << 10, Duration.ofMillis(20), 3));
    volumes.create("disk", SIZE, 4096, 64 << 10);
    return volumes.open("disk");
  }

  @Override
  protected BlockDevice reopen(BlockDevice device) throws Exception {
    device.close();
    return volumes.open("disk");
  }

  @AfterEach
  void closeStore() throws Exception {
    store.close();
  }
}
