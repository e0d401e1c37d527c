package dev.remap.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.BlockDeviceContract;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A volume whose store reads go through the disk cache passes the contract; the cache keeps its promises. */
class DiskCacheTest extends BlockDeviceContract {

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;
  private DiskCache cache;

  @Override
  protected BlockDevice create() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    cache = new DiskCache(store, tmp.resolve("cache"), 2 << 20, 256 << 10);
    volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
        .withJournal(32 << 20, 4 << 20).withSegments(512 << 10, Duration.ofMillis(20), 4), cache);
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
    cache.close(); // block files still being written land before the folder is deleted
    store.close();
  }

  private void putObject(String key, byte[] data) throws Exception {
    store.put(key, ByteBuffer.wrap(data));
  }

  @Test
  void aMissFillsTheCacheAndTheSecondReadIsAHit() throws Exception {
    byte[] data = random(1 << 20, 5);
    putObject("segments/x/1.seg", data);
    ByteBuffer first = ByteBuffer.allocate(100_000);
    cache.readFully("segments/x/1.seg", 300_000, first);
    assertThat(first.array()).isEqualTo(Arrays.copyOfRange(data, 300_000, 400_000));
    long misses = cache.counters().misses();
    ByteBuffer second = ByteBuffer.allocate(100_000);
    cache.readFully("segments/x/1.seg", 300_000, second);
    assertThat(second.array()).isEqualTo(first.array());
    assertThat(cache.counters().misses()).isEqualTo(misses);
    assertThat(cache.counters().hits()).isPositive();
  }

  @Test
  void itStaysWithinItsCapacityAndSurvivesARestart() throws Exception {
    Random random = new Random(1);
    for (int i = 0; i < 6; i++) {
      putObject("segments/x/" + i + ".seg", random(1 << 20, i));
    }
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 6; i++) {
        int offset = random.nextInt(1 << 19);
        ByteBuffer dst = ByteBuffer.allocate(1 << 19);
        cache.readFully("segments/x/" + i + ".seg", offset, dst);
        assertThat(dst.array()).isEqualTo(Arrays.copyOfRange(random(1 << 20, i), offset, offset + (1 << 19)));
      }
    }
    cache.awaitFills(); // block files are written in the background
    assertThat(cache.counters().usedBytes()).isLessThanOrEqualTo(2 << 20);
    long onDisk;
    try (var files = Files.list(tmp.resolve("cache"))) {
      onDisk = files.mapToLong(f -> f.toFile().length()).sum();
    }
    assertThat(onDisk).isLessThanOrEqualTo(2 << 20);
    DiskCache again = new DiskCache(store, tmp.resolve("cache"), 2 << 20, 256 << 10);
    assertThat(again.counters().usedBytes()).as("the index is rebuilt from the folder").isEqualTo(onDisk);
  }

  @Test
  void readingPastTheEndOfAnObjectIsAnError() throws Exception {
    putObject("segments/x/short.seg", random(1000, 1));
    assertThatThrownBy(() -> cache.readFully("segments/x/short.seg", 900, ByteBuffer.allocate(200)))
        .hasMessageContaining("ends before offset 1000");
  }
}
