package dev.remap.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ForwardingObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk tier's misses and hits under many readers, on a real file store and a real cache
 * folder: one store fetch per block however many miss it together, blocks written in the
 * background and served meanwhile, a cache folder that cannot be written costing caching and not
 * reads, and every byte right while blocks are evicted and fetched again.
 */
class DiskCacheFillsTest {

  private static final int BLOCK = 64 << 10;

  @TempDir Path tmp;
  private CountingStore store;
  private DiskCache cache;
  private final List<Thread> readerThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final ExecutorService readers = Executors.newFixedThreadPool(8, task -> {
    Thread thread = new Thread(task, "disk-cache-reader");
    readerThreads.add(thread);
    return thread;
  });

  /** The real store, counting the reads that reach it and able to hold them at a gate. */
  private static final class CountingStore extends ForwardingObjectStore {
    final AtomicInteger reads = new AtomicInteger();
    volatile CountDownLatch gate = new CountDownLatch(0);

    CountingStore(ObjectStore next) {
      super(next);
    }

    @Override
    public int read(String key, long offset, ByteBuffer dst) throws IOException {
      reads.incrementAndGet();
      try {
        gate.await();
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
      return super.read(key, offset, dst);
    }
  }

  @BeforeEach
  void open() throws Exception {
    store = new CountingStore(FileObjectStore.open(tmp.resolve("store")));
    cache = new DiskCache(store, tmp.resolve("cache"), 1 << 20, BLOCK);
  }

  @AfterEach
  void close() throws Exception {
    readers.shutdownNow();
    cache.close();
    store.close();
  }

  @Test
  void readersMissingOneBlockTogetherFetchItOnce() throws Exception {
    byte[] data = bytes(BLOCK * 2, 1);
    store.put("segments/x/1.seg", ByteBuffer.wrap(data));
    store.gate = new CountDownLatch(1);
    List<Future<byte[]>> reads = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      int offset = 4096 * i;
      reads.add(readers.submit(() -> read("segments/x/1.seg", offset, 4096)));
    }
    // All eight parked: the first at the store's gate, the seven others on the block in flight.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (readerThreads.size() < 8 || !readerThreads.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
      assertThat(System.nanoTime()).as("readers parked in time").isLessThan(deadline);
      Thread.onSpinWait();
    }
    assertThat(store.reads.get()).isEqualTo(1);
    store.gate.countDown();
    for (int i = 0; i < 8; i++) {
      assertThat(reads.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(Arrays.copyOfRange(data, 4096 * i, 4096 * (i + 1)));
    }
    assertThat(store.reads.get()).as("one fetch of the block from the store").isEqualTo(1);
    assertThat(cache.counters().misses()).isEqualTo(1);
    assertThat(cache.counters().hits()).isEqualTo(7);
    cache.awaitFills();
    assertThat(read("segments/x/1.seg", 8192, 100)).isEqualTo(Arrays.copyOfRange(data, 8192, 8292));
    assertThat(store.reads.get()).as("the block's file is in: read from it").isEqualTo(1);
    assertThat(cache.counters().usedBytes()).isEqualTo(BLOCK);
  }

  @Test
  void aCacheFolderThatCannotBeWrittenCostsCachingNotReads() throws Exception {
    byte[] data = bytes(BLOCK * 4, 2);
    store.put("segments/x/2.seg", ByteBuffer.wrap(data));
    Path folder = tmp.resolve("cache");
    Files.delete(folder);
    Files.writeString(folder, "not a folder"); // every block file's write fails
    for (int round = 0; round < 2; round++) {
      assertThat(read("segments/x/2.seg", 1000, BLOCK * 3)).isEqualTo(Arrays.copyOfRange(data, 1000, 1000 + BLOCK * 3));
      cache.awaitFills();
    }
    assertThat(store.reads.get()).as("nothing cached: every block fetched each time").isEqualTo(8);
    assertThat(cache.counters().usedBytes()).isZero();
    Files.delete(folder);
    Files.createDirectory(folder);
    assertThat(read("segments/x/2.seg", 0, BLOCK)).isEqualTo(Arrays.copyOfRange(data, 0, BLOCK));
    cache.awaitFills();
    assertThat(read("segments/x/2.seg", 0, BLOCK)).isEqualTo(Arrays.copyOfRange(data, 0, BLOCK));
    assertThat(store.reads.get()).as("cached again once the folder can be written").isEqualTo(9);
  }

  @Test
  void manyReadersGetTheRightBytesWhileBlocksAreEvictedAndFetchedAgain() throws Exception {
    int objects = 6;
    int size = 1 << 20; // 6 MiB of objects through a 1 MiB tier
    byte[][] data = new byte[objects][];
    for (int i = 0; i < objects; i++) {
      data[i] = bytes(size, 10 + i);
      store.put("segments/y/" + i + ".seg", ByteBuffer.wrap(data[i]));
    }
    List<Future<Integer>> work = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      long seed = t;
      work.add(readers.submit(() -> {
        Random random = new Random(seed);
        for (int i = 0; i < 400; i++) {
          int object = random.nextInt(objects);
          int length = 1 + random.nextInt(3 * BLOCK);
          int offset = random.nextInt(size - length);
          byte[] got = read("segments/y/" + object + ".seg", offset, length);
          if (!Arrays.equals(got, Arrays.copyOfRange(data[object], offset, offset + length))) {
            throw new AssertionError("wrong bytes at " + offset + " of object " + object);
          }
        }
        return 400;
      }));
    }
    for (Future<Integer> w : work) {
      assertThat(w.get(60, TimeUnit.SECONDS)).isEqualTo(400);
    }
    cache.awaitFills();
    assertThat(cache.counters().evictions()).as("the tier was too small for the objects").isPositive();
    assertThat(cache.counters().usedBytes()).isLessThanOrEqualTo(1 << 20);
    long onDisk;
    try (var files = Files.list(tmp.resolve("cache"))) {
      onDisk = files.mapToLong(f -> f.toFile().length()).sum();
    }
    assertThat(onDisk).as("files on disk are the index's").isEqualTo(cache.counters().usedBytes());
  }

  @Test
  void aReadHereIsDeclinedUntilTheBlockIsInAndNeverFetches() throws Exception {
    byte[] data = bytes(BLOCK * 2, 4);
    store.put("segments/x/4.seg", ByteBuffer.wrap(data));
    ByteBuffer declined = ByteBuffer.allocate(100);
    assertThat(cache.readIfLocal("segments/x/4.seg", 10, declined)).isFalse();
    assertThat(store.reads.get()).as("a read here never goes to the store").isZero();
    read("segments/x/4.seg", 10, 100);
    ByteBuffer here = ByteBuffer.allocate(200);
    assertThat(cache.readIfLocal("segments/x/4.seg", 20, here)).as("fetched: here, in memory or in its file").isTrue();
    assertThat(here.array()).isEqualTo(Arrays.copyOfRange(data, 20, 220));
    ByteBuffer across = ByteBuffer.allocate(200);
    assertThat(cache.readIfLocal("segments/x/4.seg", BLOCK - 100, across)).as("the next block is not").isFalse();
    assertThat(store.reads.get()).isEqualTo(1);
  }

  @Test
  void aClosedTierStillReads() throws Exception {
    byte[] data = bytes(BLOCK * 2, 3);
    store.put("segments/x/3.seg", ByteBuffer.wrap(data));
    assertThat(read("segments/x/3.seg", 5, 100)).isEqualTo(Arrays.copyOfRange(data, 5, 105));
    cache.close();
    assertThat(read("segments/x/3.seg", 5, 100)).isEqualTo(Arrays.copyOfRange(data, 5, 105));
    assertThat(read("segments/x/3.seg", BLOCK + 5, 100)).isEqualTo(Arrays.copyOfRange(data, BLOCK + 5, BLOCK + 105));
    cache.awaitFills();
    assertThat(cache.counters().usedBytes()).isEqualTo(2L * BLOCK);
  }

  private byte[] read(String key, long offset, int length) throws IOException {
    ByteBuffer dst = ByteBuffer.allocate(length);
    cache.readFully(key, offset, dst);
    return dst.array();
  }

  private static byte[] bytes(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }
}
