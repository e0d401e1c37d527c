package dev.remap.engine.block;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.cache.RamCache;
import dev.remap.engine.queue.RequestQueue;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A front-end runs requests on its own thread only when the device it asks says they are local.
 * It asks the top of a stack of layers, so a layer that works on the caller's thread must pass the
 * answer of the device below up, and a request queue, whose requests wait for its workers, must
 * never say local, whatever is below it.
 */
class ForwardingLocalityTest {

  @TempDir Path tmp;

  @Test
  void layersPassTheVolumesAnswerUpAndTheQueueSaysNo() throws Exception {
    try (ObjectStore store = FileObjectStore.open(tmp.resolve("store"))) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
          .withJournal(32 << 20, 4 << 20));
      volumes.create("disk", 1 << 20, 4096, 64 << 10);
      BlockDevice volume = volumes.open("disk");
      // A volume journals writes locally and, on a store in a local folder, reads locally too.
      assertThat(volume.writesAreLocal()).as("the volume's writes are local").isTrue();
      assertThat(volume.readsAreLocal()).as("the volume's reads are local").isTrue();

      BlockDevice layer = new ForwardingBlockDevice(volume) { };
      RamCache cache = new RamCache(layer, 1 << 20, 4096);
      try (RequestQueue queue = new RequestQueue(cache, "locality", 1, 8, 1 << 20)) {
        assertThat(layer.writesAreLocal()).as("a layer that overrides nothing, over the volume: writes").isTrue();
        assertThat(layer.readsAreLocal()).as("a layer that overrides nothing, over the volume: reads").isTrue();
        assertThat(cache.writesAreLocal()).as("the RAM cache over it: writes").isTrue();
        assertThat(cache.readsAreLocal()).as("the RAM cache over it: reads").isTrue();
        assertThat(queue.writesAreLocal()).as("the request queue over them: writes").isFalse();
        assertThat(queue.readsAreLocal()).as("the request queue over them: reads").isFalse();
      }
    }
  }
}
