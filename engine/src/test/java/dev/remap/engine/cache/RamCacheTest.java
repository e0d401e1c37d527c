package dev.remap.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.block.BlockDevice;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The RAM tier answers with the device's bytes whatever it holds: when it is much smaller than
 * what is read (pages dropped and their slots reused), across its slabs, for reads aligned or
 * not into buffers of either kind, and after it was cleared.
 */
class RamCacheTest {

  private static final int PAGE = 4096;

  /**
   * A large read that misses a few pages (racing writes drop pages) reads only those from below:
   * after random writes a 1 MiB read missing one page in 256 went below whole, a fragment read per page.
   */
  @Test
  void aReadMissingSomePagesReadsOnlyThoseFromBelow() throws Exception {
    MemoryDevice device = new MemoryDevice(1 << 20, 4);
    RamCache cache = new RamCache(device, 64 * PAGE, PAGE);
    cache.read(0, ByteBuffer.allocate(5 * PAGE));
    cache.read(6 * PAGE, ByteBuffer.allocate(3 * PAGE));
    cache.read(11 * PAGE, ByteBuffer.allocate(5 * PAGE));
    long before = device.readBytes.get();
    int reads = device.reads.get();
    ByteBuffer all = ByteBuffer.allocate(16 * PAGE);
    cache.read(0, all);
    assertThat(all.array()).as("the 16 pages, 13 from RAM and 3 from below").isEqualTo(device.range(0, 16 * PAGE));
    assertThat(device.readBytes.get() - before).as("bytes read from below").isEqualTo(3L * PAGE);
    assertThat(device.reads.get() - reads).as("reads below: the runs of missing pages").isEqualTo(2);
    long again = device.readBytes.get();
    assertThat(cache.tryRead(0, ByteBuffer.allocate(16 * PAGE))).as("all 16 pages kept").isTrue();
    assertThat(device.readBytes.get()).isEqualTo(again);
  }

  @Test
  void aTierSmallerThanTheWorkingSetServesTheDevicesBytes() throws Exception {
    MemoryDevice device = new MemoryDevice(1 << 20, 1);
    byte[] model = device.bytes.clone();
    RamCache cache = new RamCache(device, 16 * PAGE, PAGE);
    Random random = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      int choice = random.nextInt(20);
      if (choice < 12) {
        boolean aligned = random.nextBoolean();
        int length = aligned ? PAGE * (1 + random.nextInt(8)) : 1 + random.nextInt(5 * PAGE);
        long offset = aligned ? (long) PAGE * random.nextInt((model.length - length) / PAGE + 1)
            : random.nextInt(model.length - length + 1);
        assertThat(mismatch(read(cache, offset, length, random.nextBoolean(), random.nextInt(3)),
            Arrays.copyOfRange(model, (int) offset, (int) offset + length)))
            .as("first wrong byte of a read of %s+%s after %s steps", offset, length, i).isEqualTo(-1);
      } else if (choice < 16) {
        int length = 1 + random.nextInt(3 * PAGE);
        int offset = random.nextInt(model.length - length + 1);
        byte[] data = new byte[length];
        random.nextBytes(data);
        cache.write(offset, ByteBuffer.wrap(data), false);
        System.arraycopy(data, 0, model, offset, length);
      } else if (choice < 18) {
        int length = PAGE * (1 + random.nextInt(4));
        int offset = PAGE * random.nextInt((model.length - length) / PAGE + 1);
        if (choice == 16) {
          cache.trim(offset, length, false);
        } else {
          cache.writeZeroes(offset, length, false, false);
        }
        Arrays.fill(model, offset, offset + length, (byte) 0);
      } else if (choice == 18) {
        int offsetA = random.nextInt(model.length - PAGE);
        int offsetB = random.nextInt(model.length - PAGE);
        byte[] a = new byte[PAGE];
        byte[] b = new byte[PAGE / 2];
        random.nextBytes(a);
        random.nextBytes(b);
        cache.writeAll(new long[] {offsetA, offsetB}, new ByteBuffer[] {ByteBuffer.wrap(a), ByteBuffer.wrap(b)}, 2);
        System.arraycopy(a, 0, model, offsetA, a.length);
        System.arraycopy(b, 0, model, offsetB, b.length);
      } else if (random.nextInt(50) == 0) {
        cache.clear();
      }
      TierCounters.Snapshot counters = cache.counters();
      assertThat(counters.usedBytes()).isBetween(0L, 16L * PAGE);
    }
    TierCounters.Snapshot counters = cache.counters();
    assertThat(counters.capacityBytes()).isEqualTo(16L * PAGE);
    assertThat(counters.hits()).as("hits").isPositive();
    assertThat(counters.evictions()).as("evictions").isPositive();
  }

  @Test
  void pagesReadAlignedAnswerAnUnalignedReadInsideThemWithoutTheDevice() throws Exception {
    MemoryDevice device = new MemoryDevice(1 << 20, 2);
    RamCache cache = new RamCache(device, 64 * PAGE, PAGE);
    byte[] first = read(cache, 8 * PAGE, 4 * PAGE, true, 5);
    assertThat(mismatch(first, device.range(8 * PAGE, 4 * PAGE))).isEqualTo(-1);
    int reads = device.reads.get();

    ByteBuffer inside = ByteBuffer.allocate(2 * PAGE + 100);
    assertThat(cache.tryRead(8 * PAGE + 333, inside)).as("a hit").isTrue();
    assertThat(mismatch(inside.array(), device.range(8 * PAGE + 333, 2 * PAGE + 100))).isEqualTo(-1);
    assertThat(device.reads.get()).isEqualTo(reads);
    assertThat(cache.counters().usedBytes()).isEqualTo(4L * PAGE);

    // An unaligned miss keeps the whole pages around it.
    assertThat(mismatch(read(cache, 20 * PAGE + 10, PAGE, false, 0), device.range(20 * PAGE + 10, PAGE))).isEqualTo(-1);
    assertThat(cache.tryRead(20 * PAGE, ByteBuffer.allocate(2 * PAGE))).isTrue();
  }

  @Test
  void afterAClearReadsMissAndRefillFromTheDevice() throws Exception {
    MemoryDevice device = new MemoryDevice(1 << 20, 3);
    RamCache cache = new RamCache(device, 64 * PAGE, PAGE);
    read(cache, 0, 16 * PAGE, false, 0);
    assertThat(cache.tryRead(0, ByteBuffer.allocate(16 * PAGE))).isTrue();

    // Changed behind the cache's back, as by another node owning the volume.
    new Random(4).nextBytes(device.bytes);
    cache.clear();
    assertThat(cache.counters().usedBytes()).isZero();
    assertThat(cache.tryRead(0, ByteBuffer.allocate(PAGE))).isFalse();
    assertThat(mismatch(read(cache, 0, 16 * PAGE, true, 0), device.range(0, 16 * PAGE))).isEqualTo(-1);
    ByteBuffer again = ByteBuffer.allocate(16 * PAGE);
    assertThat(cache.tryRead(0, again)).isTrue();
    assertThat(mismatch(again.array(), device.range(0, 16 * PAGE))).isEqualTo(-1);
  }

  @Test
  void aTierOfSeveralSlabsKeepsEveryPageWhereItPutIt() throws Exception {
    int size = 48 << 20;
    MemoryDevice device = new MemoryDevice(size, 5);
    long capacity = 2L * RamCache.SLAB_BYTES + 100 * PAGE;
    RamCache cache = new RamCache(device, capacity, PAGE);
    for (long offset = 0; offset < size; offset += 1 << 20) {
      read(cache, offset, 1 << 20, true, 0);
    }
    assertThat(cache.counters().usedBytes()).isEqualTo(capacity);
    Random random = new Random(6);
    int hits = 0;
    for (int i = 0; i < 2000; i++) {
      int length = 1 + random.nextInt(64 * PAGE);
      long offset = random.nextInt(size - length + 1);
      ByteBuffer dst = ByteBuffer.allocate(length);
      if (cache.tryRead(offset, dst)) {
        hits++;
        assertThat(mismatch(dst.array(), device.range(offset, length)))
            .as("first wrong byte of a hit at %s+%s", offset, length).isEqualTo(-1);
      }
    }
    assertThat(hits).isPositive();
  }

  @Test
  void aTierSmallerThanAPageKeepsNothingAndCountsWhatItCouldNotKeep() throws Exception {
    MemoryDevice device = new MemoryDevice(1 << 20, 8);
    RamCache cache = new RamCache(device, PAGE - 1, PAGE);
    assertThat(mismatch(read(cache, 0, 4 * PAGE, false, 0), device.range(0, 4 * PAGE))).isEqualTo(-1);
    assertThat(cache.tryRead(0, ByteBuffer.allocate(PAGE))).isFalse();
    TierCounters.Snapshot counters = cache.counters();
    assertThat(counters.usedBytes()).isZero();
    assertThat(counters.evictions()).isEqualTo(4);
  }

  /** Where two byte arrays first differ (-1: nowhere), so that a failure names a position, not every byte. */
  private static int mismatch(byte[] actual, byte[] expected) {
    return Arrays.mismatch(actual, expected);
  }

  /** Reads through the cache into a heap or direct buffer whose window starts at lead. */
  static byte[] read(RamCache cache, long offset, int length, boolean direct, int lead) throws Exception {
    ByteBuffer buffer = direct ? ByteBuffer.allocateDirect(lead + length) : ByteBuffer.allocate(lead + length);
    buffer.position(lead);
    cache.read(offset, buffer);
    assertThat(buffer.hasRemaining()).isFalse();
    byte[] out = new byte[length];
    buffer.get(lead, out);
    return out;
  }

  /** Bytes in memory that count the reads that reach them. */
  static class MemoryDevice implements BlockDevice {
    final byte[] bytes;
    final AtomicInteger reads = new AtomicInteger();
    final AtomicLong readBytes = new AtomicLong();

    MemoryDevice(int size, long seed) {
      bytes = new byte[size];
      new Random(seed).nextBytes(bytes);
    }

    byte[] range(long offset, int length) {
      return Arrays.copyOfRange(bytes, (int) offset, (int) offset + length);
    }

    @Override
    public long size() {
      return bytes.length;
    }

    @Override
    public int blockSize() {
      return 512;
    }

    @Override
    public boolean isReadOnly() {
      return false;
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) {
      reads.incrementAndGet();
      readBytes.addAndGet(dst.remaining());
      dst.put(bytes, (int) offset, dst.remaining());
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src, boolean fua) {
      src.get(bytes, (int) offset, src.remaining());
    }

    @Override
    public synchronized void trim(long offset, long length, boolean fua) {
      Arrays.fill(bytes, (int) offset, (int) (offset + length), (byte) 0);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fua) {
      trim(offset, length, fua);
    }

    @Override
    public void flush() {}

    @Override
    public List<Extent> extents(long offset, long length) {
      return List.of(new Extent(offset, length, false, false));
    }

    @Override
    public void close() {}
  }
}
