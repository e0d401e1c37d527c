package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.cache.DiskCache;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A volume given its own disk tier reads store data through it; the others do not. */
class VolumeReadersTest {

  @Test
  void aVolumeWithItsOwnDiskCacheFillsItAndOthersLeaveItAlone(@TempDir Path tmp) throws Exception {
    try (ObjectStore store = FileObjectStore.open(tmp.resolve("store"))) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
          .withJournal(16 << 20, 4 << 20).withSegments(256 << 10, Duration.ofMillis(10), 4));
      for (String name : new String[] {"cached", "plain"}) {
        volumes.create(name, 8L << 20, 4096, 64 << 10);
        try (Volume v = volumes.open(name)) {
          v.write(0, ByteBuffer.wrap(new byte[1 << 20]).put(0, (byte) 7), false);
          v.drain(Duration.ofSeconds(30)); // in a segment, so reads go to the store
        }
      }
      DiskCache cache = new DiskCache(store, tmp.resolve("cache"), 64L << 20, 64 << 10);
      for (String name : new String[] {"plain", "cached"}) {
        try (Volume v = volumes.open(name, name.equals("cached") ? Optional.of(cache) : Optional.empty())) {
          ByteBuffer got = ByteBuffer.allocate(1 << 20);
          v.read(0, got);
          assertThat(got.get(0)).isEqualTo((byte) 7);
          if (name.equals("plain")) {
            assertThat(cache.counters().misses()).as("plain does not use it").isZero();
          }
        }
      }
      assertThat(cache.counters().misses()).isPositive();
      cache.awaitFills(); // block files are written in the background
      try (Stream<Path> files = Files.list(tmp.resolve("cache"))) {
        assertThat(files.count()).isPositive();
      }
      long before = cache.counters().misses() + cache.counters().hits();
      try (Volume v = volumes.open("cached")) {
        v.read(0, ByteBuffer.allocate(4096));
      }
      assertThat(cache.counters().misses() + cache.counters().hits()).as("opened without it, it is left alone").isEqualTo(before);
    }
  }
}
