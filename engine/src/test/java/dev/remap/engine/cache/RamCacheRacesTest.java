package dev.remap.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.cache.RamCacheTest.MemoryDevice;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Writes update the pages the RAM tier keeps, and the tier still never answers with bytes older
 * than the device's, whatever order concurrent writes and misses reach the device and come back in.
 */
@Timeout(120)
class RamCacheRacesTest {

  private static final int PAGE = 4096;

  @Test
  void writesUpdateTheKeptPagesSoTheReadsAfterThemStayInRam() throws Exception {
    MemoryDevice device = new MemoryDevice(64 * PAGE, 3);
    RamCache cache = new RamCache(device, 64 * PAGE, PAGE);
    RamCacheTest.read(cache, 0, 64 * PAGE, false, 0);
    int readsBefore = device.reads.get();
    Random random = new Random(5);
    for (int i = 0; i < 200; i++) {
      int length = 1 + random.nextInt(2 * PAGE);
      int offset = random.nextInt(64 * PAGE - length);
      byte[] data = new byte[length];
      random.nextBytes(data);
      cache.write(offset, random.nextBoolean() ? ByteBuffer.wrap(data) : direct(data), false);
    }
    assertThat(RamCacheTest.read(cache, 0, 64 * PAGE, true, 3)).isEqualTo(device.range(0, 64 * PAGE));
    assertThat(device.reads.get()).as("reads that reached the device after the writes").isEqualTo(readsBefore);
  }

  /**
   * The race an update must not lose: the first write marks the page, the second lands on the
   * device before it, the first lands (the device now holds the first's bytes) and settles, and
   * only then does the second settle. Updating blindly would leave the second's bytes in RAM.
   */
  @Test
  void aWriteThatLandedFirstButSettlesLastDoesNotOverwriteTheOneThatLandedAfterIt() throws Exception {
    CountDownLatch firstSent = new CountDownLatch(1);
    CountDownLatch secondLanded = new CountDownLatch(1);
    CountDownLatch firstDone = new CountDownLatch(1);
    MemoryDevice device = new MemoryDevice(4 * PAGE, 9) {
      @Override
      public void write(long offset, ByteBuffer src, boolean fua) {
        boolean first = src.get(src.position()) == 1;
        if (first) {
          firstSent.countDown();
          await(secondLanded);
        }
        synchronized (this) {
          src.get(bytes, (int) offset, src.remaining());
        }
        if (!first) {
          secondLanded.countDown();
          await(firstDone);
        }
      }
    };
    RamCache cache = new RamCache(device, 4 * PAGE, PAGE);
    RamCacheTest.read(cache, 0, 4 * PAGE, false, 0);
    byte[] one = filled(PAGE, 1);
    byte[] two = filled(PAGE / 2, 2);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      Future<?> first = threads.submit(() -> {
        write(cache, PAGE, one);
        firstDone.countDown();
      });
      // The second write starts once the first has marked the page and reached the device.
      await(firstSent);
      Future<?> second = threads.submit(() -> write(cache, PAGE + 100, two));
      first.get(60, TimeUnit.SECONDS);
      second.get(60, TimeUnit.SECONDS);
    } finally {
      threads.shutdownNow();
    }
    assertThat(device.range(PAGE, PAGE)).as("the device holds the write that landed last").isEqualTo(one);
    assertThat(RamCacheTest.read(cache, PAGE, PAGE, false, 0)).isEqualTo(one);
  }

  /**
   * A miss that starts after a write marked its page and reads the device before the write lands
   * must not keep what it read: the write, settling first, finds no page to update.
   */
  @Test
  void aMissThatReadTheOldBytesWhileAWriteWasOnItsWayDoesNotKeepThem() throws Exception {
    CountDownLatch writeSent = new CountDownLatch(1);
    CountDownLatch missRead = new CountDownLatch(1);
    CountDownLatch writeDone = new CountDownLatch(1);
    MemoryDevice device = new MemoryDevice(4 * PAGE, 13) {
      @Override
      public void write(long offset, ByteBuffer src, boolean fua) {
        writeSent.countDown();
        await(missRead);
        super.write(offset, src, fua);
      }

      @Override
      public void read(long offset, ByteBuffer dst) {
        super.read(offset, dst);
        if (writeSent.getCount() == 0) {
          missRead.countDown();
          await(writeDone);
        }
      }
    };
    RamCache cache = new RamCache(device, 4 * PAGE, PAGE);
    byte[] fresh = filled(PAGE, 7);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      Future<?> write = threads.submit(() -> {
        write(cache, 2 * PAGE, fresh);
        writeDone.countDown();
      });
      await(writeSent);
      Future<byte[]> miss = threads.submit(() -> RamCacheTest.read(cache, 2 * PAGE, PAGE, false, 0));
      write.get(60, TimeUnit.SECONDS);
      assertThat(miss.get(60, TimeUnit.SECONDS)).as("the miss read before the write landed").isNotEqualTo(fresh);
    } finally {
      threads.shutdownNow();
    }
    assertThat(RamCacheTest.read(cache, 2 * PAGE, PAGE, false, 0)).isEqualTo(fresh);
  }

  @Test
  void concurrentWritesAndMissesLeaveEveryPageAsTheDeviceHasIt() throws Exception {
    int pages = 8;
    MemoryDevice device = new MemoryDevice(pages * PAGE, 11) {
      @Override
      public void write(long offset, ByteBuffer src, boolean fua) {
        // Writes reach the device in any order: one in three yields between being sent and landing.
        if (src.remaining() % 3 == 0) {
          Thread.yield();
        }
        super.write(offset, src, fua);
      }
    };
    RamCache cache = new RamCache(device, 6 * PAGE, PAGE);
    ExecutorService threads = Executors.newFixedThreadPool(6);
    try {
      for (int round = 0; round < 20; round++) {
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
          Random random = new Random(round * 31L + t);
          boolean writer = t < 4;
          work.add(threads.submit(() -> {
            for (int i = 0; i < 400; i++) {
              int length = 1 + random.nextInt(PAGE + PAGE / 2);
              int offset = random.nextInt(pages * PAGE - length);
              if (writer) {
                byte[] data = new byte[length];
                random.nextBytes(data);
                write(cache, offset, data);
              } else {
                RamCacheTest.read(cache, offset, length, random.nextBoolean(), 0);
              }
            }
            return null;
          }));
        }
        for (Future<?> f : work) {
          f.get(60, TimeUnit.SECONDS);
        }
        // Quiet now: every page the tier answers with must be the device's.
        for (int p = 0; p < pages; p++) {
          assertThat(Arrays.mismatch(RamCacheTest.read(cache, (long) p * PAGE, PAGE, false, 0), device.range((long) p * PAGE, PAGE)))
              .as("first wrong byte of page %d after round %d", p, round).isEqualTo(-1);
        }
      }
    } finally {
      threads.shutdownNow();
    }
  }

  private static void write(RamCache cache, long offset, byte[] data) {
    try {
      cache.write(offset, ByteBuffer.wrap(data), false);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static ByteBuffer direct(byte[] data) {
    return ByteBuffer.allocateDirect(data.length).put(data).flip();
  }

  private static byte[] filled(int length, int value) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(60, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
