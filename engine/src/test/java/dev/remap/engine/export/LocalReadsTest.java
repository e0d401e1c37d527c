package dev.remap.engine.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.cache.DiskCache;
import dev.remap.engine.nbd.NbdServer;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads a connection's thread may serve itself on a volume read through a local-disk tier
 * ({@link ExportStack#readIfLocal}): the bytes in the journal or in the tier, never a fetch from
 * the store; declined otherwise, then the queued read fetches and the next is local. Built as the
 * node builds it (RAM tier, disk tier, growth room).
 */
class LocalReadsTest {

  @TempDir Path tmp;

  @Test
  void servedHereFromTheJournalAndTheDiskTierDeclinedWhenOnlyTheStoreHasTheBytes() throws Exception {
    byte[] data = new byte[1 << 20];
    new Random(3).nextBytes(data);
    try (ObjectStore store = FileObjectStore.open(tmp.resolve("store"));
        DiskCache cache = new DiskCache(store, tmp.resolve("cache"), 64L << 20, 256 << 10)) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
          .withJournal(16 << 20, 4 << 20).withSegments(256 << 10, Duration.ofMillis(10), 4));
      volumes.create("disk", 8L << 20, 4096, 64 << 10);
      try (Volume v = volumes.open("disk")) {
        v.write(0, ByteBuffer.wrap(data), false);
        v.drain(Duration.ofSeconds(30)); // in segments: only the store has the bytes now
      }
      StackSpec spec = NbdServer.Options.unix(tmp.resolve("unused.sock")).withGrowthRoom().stackDefaults()
          .withRamCache(1 << 20).withDiskTier(Optional.of(cache));
      try (ExportStack stack = ExportStack.build("disk", new VolumeExports(volumes).open("disk", spec).orElseThrow(),
          spec)) {
        ByteBuffer first = ByteBuffer.allocate(4096);
        assertThat(stack.readIfLocal(8192, first)).as("only the store has it: declined").isFalse();
        assertThat(first.position()).isZero();
        assertThat(cache.counters().misses()).as("nothing fetched for the declined read").isZero();
        try (Stream<Path> files = Files.list(tmp.resolve("cache"))) {
          assertThat(files.count()).isZero();
        }

        ByteBuffer queued = ByteBuffer.allocate(4096);
        stack.read(8192, queued); // the worker's read fetches the block into the tier
        assertThat(queued.array()).isEqualTo(Arrays.copyOfRange(data, 8192, 8192 + 4096));
        cache.awaitFills();
        ByteBuffer here = ByteBuffer.allocate(16384);
        assertThat(stack.readIfLocal(65536, here)).as("the same block, now in the tier").isTrue();
        assertThat(here.position()).isEqualTo(16384);
        assertThat(here.array()).isEqualTo(Arrays.copyOfRange(data, 65536, 65536 + 16384));
        long ramHits = stack.ramCounters().orElseThrow().hits();
        assertThat(stack.tryRead(65536, ByteBuffer.allocate(4096))).as("kept in the RAM tier as a read keeps it").isTrue();
        assertThat(stack.ramCounters().orElseThrow().hits()).isEqualTo(ramHits + 1);

        byte[] written = new byte[4096];
        new Random(4).nextBytes(written);
        stack.write(3 << 20, ByteBuffer.wrap(written), false);
        ByteBuffer journaled = ByteBuffer.allocate(4096);
        assertThat(stack.readIfLocal(3 << 20, journaled)).as("in the journal").isTrue();
        assertThat(journaled.array()).isEqualTo(written);

        assertThat(stack.size()).as("growth room advertised").isGreaterThan(8L << 20);
        ByteBuffer past = ByteBuffer.allocate(4096).put(0, (byte) 1);
        assertThat(stack.readIfLocal(8L << 20, past)).as("growth room past the end reads zeros").isTrue();
        assertThat(past.array()).isEqualTo(new byte[4096]);
      }
    }
  }
}
