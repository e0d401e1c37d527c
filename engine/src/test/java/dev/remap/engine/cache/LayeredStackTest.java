package dev.remap.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.BlockDeviceContract;
import dev.remap.engine.block.ForwardingBlockDevice;
import dev.remap.engine.queue.RequestQueue;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The full data path — RAM cache, request queue with workers, volume — passes the contract. */
class LayeredStackTest extends BlockDeviceContract {

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;

  @Override
  protected BlockDevice create() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
        .withJournal(32 << 20, 4 << 20).withSegments(512 << 10, Duration.ofMillis(20), 4));
    volumes.create("disk", SIZE, 4096, 64 << 10);
    return stack();
  }

  private BlockDevice stack() throws Exception {
    return new RamCache(new RequestQueue(volumes.open("disk"), "disk", 3, 256, 1 << 20), 1 << 20, 64 << 10);
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

  @Test
  void repeatedReadsAreAnsweredFromRamAndWritesAreSeenAtOnce() throws Exception {
    RamCache cache = (RamCache) device;
    device.write(0, ByteBuffer.wrap(random(128 << 10, 1)), false);
    read(0, 128 << 10);
    long hits = cache.counters().hits();
    assertThat(read(4096, 8192)).isEqualTo(Arrays.copyOfRange(random(128 << 10, 1), 4096, 4096 + 8192));
    assertThat(cache.counters().hits()).isEqualTo(hits + 1);
    device.write(4096, ByteBuffer.wrap(random(4096, 2)), false);
    assertThat(read(4096, 4096)).isEqualTo(random(4096, 2));
    assertThat(cache.counters().usedBytes()).isLessThanOrEqualTo(1 << 20);
  }

  @Test
  void concurrentClientsOnDisjointRangesSeeTheirOwnData() throws Exception {
    RequestQueue queue = new RequestQueue(new RamCacheBypass(device), "parallel", 4, 64, 1 << 20);
    int clients = 8;
    int region = (int) (SIZE / clients);
    List<CompletableFuture<byte[]>> done = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      done.add(CompletableFuture.supplyAsync(() -> {
        byte[] model = new byte[region];
        Random random = new Random(client);
        for (int i = 0; i < 200; i++) {
          int length = 4096 * (1 + random.nextInt(8));
          int offset = 4096 * random.nextInt((region - length) / 4096);
          byte[] data = new byte[length];
          random.nextBytes(data);
          queue.submitWrite((long) client * region + offset, ByteBuffer.wrap(data), false).join();
          System.arraycopy(data, 0, model, offset, length);
        }
        ByteBuffer back = ByteBuffer.allocate(region);
        queue.submitRead((long) client * region, back).join();
        return Arrays.mismatch(back.array(), model) == -1 ? model : null;
      }));
    }
    for (CompletableFuture<byte[]> f : done) {
      assertThat(f.get()).as("a client's region reads back as it wrote it").isNotNull();
    }
    assertThat(queue.counters().requests()[0]).isEqualTo(clients);
  }

  /** Lets a second queue sit on the same stack without closing it twice. */
  private static final class RamCacheBypass extends ForwardingBlockDevice {
    RamCacheBypass(BlockDevice next) {
      super(next);
    }

    @Override
    public void close() {
      // The test's own stack closes the device.
    }
  }
}
