package dev.remap.engine.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.ForwardingBlockDevice;
import dev.remap.engine.cache.RamCache;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The order the server builds: a request queue whose workers run on a RAM cache over the device.
 * Two workers can then run a read that misses the cache and a write to the same page at the same
 * moment; whatever the read returns, the cache must not keep what the write replaced.
 */
class QueueOverRamCacheTest {

  private static final int PAGE = 4096;

  @Test
    void aReadMissRacingAWriteDoesNotLeaveTheReplacedPageInTheCache() throws Exception {
    RecordingDevice below = new RecordingDevice(1 << 20);
    byte[] old = bytes(1);
    byte[] fresh = bytes(2);
    below.preset(0, old);
    Interleaving device = new Interleaving(below);
    try (RequestQueue queue = new RequestQueue(new RamCache(device, 1 << 20, PAGE), "race", 2, 64, 1 << 20)) {
      CompletableFuture<Void> write = queue.submitWrite(0, ByteBuffer.wrap(fresh), false);
      await(device.writeArrived);
      // The other worker misses, reads the page as it was, and is held before it can keep it.
      ByteBuffer during = ByteBuffer.allocate(PAGE);
      CompletableFuture<Void> read = queue.submitRead(0, during);
      write.get(10, TimeUnit.SECONDS);
      device.readMayReturn.countDown();
      read.get(10, TimeUnit.SECONDS);
      assertThat(which(during.array(), old, fresh)).as("a read concurrent with the write").isIn("old", "fresh");

      ByteBuffer after = ByteBuffer.allocate(PAGE);
      queue.read(0, after);
      assertThat(which(after.array(), old, fresh)).as("a read queued after the write returned").isEqualTo("fresh");
    }
  }

  /** Names what a read returned, so that a failure says which page it saw rather than printing bytes. */
  private static String which(byte[] read, byte[] old, byte[] fresh) {
    return Arrays.equals(read, old) ? "old" : Arrays.equals(read, fresh) ? "fresh" : "neither";
  }

  private static byte[] bytes(long seed) {
    byte[] b = new byte[PAGE];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void await(CountDownLatch latch) throws InterruptedException {
    assertThat(latch.await(10, TimeUnit.SECONDS)).as("the interleaving was reached").isTrue();
  }

  /**
   * Forces the interleaving: the write waits (after the cache marked its page) until a read has
   * taken the old bytes from the device; that read then waits until the write has returned.
   */
  private static final class Interleaving extends ForwardingBlockDevice {
    final CountDownLatch writeArrived = new CountDownLatch(1);
    final CountDownLatch readTaken = new CountDownLatch(1);
    final CountDownLatch readMayReturn = new CountDownLatch(1);

    Interleaving(BlockDevice next) {
      super(next);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
      writeArrived.countDown();
      hold(readTaken);
      super.write(offset, src, fua);
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      super.read(offset, dst);
      readTaken.countDown();
      hold(readMayReturn);
    }

    private static void hold(CountDownLatch latch) throws IOException {
      try {
        if (!latch.await(10, TimeUnit.SECONDS)) {
          throw new IOException("the interleaving was not reached within 10 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
  }
}
