package dev.remap.engine.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link BlockDevice} layer promises, checked against a byte-array model. Each
 * implementation's test extends this and says how to make a device of {@link #SIZE} bytes, and
 * how to reopen it (to check that flushed data persists).
 */
public abstract class BlockDeviceContract {

  protected static final long SIZE = 8L << 20;

  protected BlockDevice device;

  /** A fresh, zero-filled device of SIZE bytes with a 4096-byte block size. */
  protected abstract BlockDevice create() throws Exception;

  /** Closes device and opens the same device again. */
  protected abstract BlockDevice reopen(BlockDevice device) throws Exception;

  @BeforeEach
  void setUpDevice() throws Exception {
    device = create();
  }

  @AfterEach
  void tearDownDevice() throws Exception {
    if (device != null) {
      device.close();
    }
  }

  protected static byte[] random(int length, long seed) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  protected byte[] read(long offset, int length) throws Exception {
    ByteBuffer dst = ByteBuffer.allocate(length);
    device.read(offset, dst);
    assertThat(dst.hasRemaining()).isFalse();
    return dst.array();
  }

  @Test
  void aNewDeviceReadsZerosAndIsOneHole() throws Exception {
    assertThat(device.size()).isEqualTo(SIZE);
    assertThat(read(0, 1 << 20)).containsOnly(0);
    assertThat(device.extents(0, SIZE)).containsExactly(new BlockDevice.Extent(0, SIZE, true, true));
  }

  @Test
  void writesReadBackAcrossChunkBoundaries() throws Exception {
    byte[] data = random(3 << 20, 1);
    device.write(512 << 10, ByteBuffer.wrap(data), false);
    assertThat(read(512 << 10, data.length)).isEqualTo(data);
    assertThat(read((512 << 10) - 4096, 4096)).containsOnly(0);
    byte[] middle = Arrays.copyOfRange(data, 1000, 1000 + 70000);
    assertThat(read((512 << 10) + 1000, 70000)).isEqualTo(middle);
  }

  @Test
  void trimAndZeroesReadAsZerosAndReportTheirStatus() throws Exception {
    device.write(0, ByteBuffer.wrap(random(1 << 20, 2)), false);
    device.trim(0, 64 << 10, false);
    device.writeZeroes(64 << 10, 64 << 10, true, false);
    assertThat(read(0, 128 << 10)).containsOnly(0);
    List<BlockDevice.Extent> extents = device.extents(0, 1 << 20);
    assertThat(extents.get(0)).isEqualTo(new BlockDevice.Extent(0, 64 << 10, true, true));
    assertThat(extents.get(1)).isEqualTo(new BlockDevice.Extent(64 << 10, 64 << 10, false, true));
    assertThat(extents.get(2)).isEqualTo(new BlockDevice.Extent(128 << 10, (1 << 20) - (128 << 10), false, false));
  }

  @Test
  void laterWritesWinAndEveryByteMatchesTheModel() throws Exception {
    byte[] model = new byte[(int) SIZE];
    Random random = new Random(3);
    for (int i = 0; i < 300; i++) {
      int length = 4096 * (1 + random.nextInt(64));
      int offset = 4096 * random.nextInt((int) (SIZE - length) / 4096);
      switch (random.nextInt(5)) {
        case 0 -> {
          device.trim(offset, length, false);
          Arrays.fill(model, offset, offset + length, (byte) 0);
        }
        case 1 -> {
          device.writeZeroes(offset, length, random.nextBoolean(), false);
          Arrays.fill(model, offset, offset + length, (byte) 0);
        }
        default -> {
          byte[] data = random(length, i);
          device.write(offset, ByteBuffer.wrap(data), random.nextInt(10) == 0);
          System.arraycopy(data, 0, model, offset, length);
        }
      }
      if (i % 50 == 0) {
        device.flush();
      }
    }
    assertThat(Arrays.mismatch(read(0, (int) SIZE), model)).isEqualTo(-1);
    device.flush();
    device = reopen(device);
    assertThat(Arrays.mismatch(read(0, (int) SIZE), model)).as("after reopen").isEqualTo(-1);
  }

  /**
   * A batch (what a connection's reader thread hands over) is the same writes one after the other:
   * overlapping writes in it end as the later one says, whatever the batch's size.
   */
  @Test
  void aBatchOfWritesIsTheSameWritesInOrder() throws Exception {
    byte[] model = new byte[(int) SIZE];
    Random random = new Random(11);
    for (int round = 0; round < 20; round++) {
      int count = 1 + random.nextInt(40);
      long[] offsets = new long[count];
      ByteBuffer[] payloads = new ByteBuffer[count];
      for (int i = 0; i < count; i++) {
        int length = 512 * (1 + random.nextInt(round % 5 == 0 ? 2048 : 16));
        // Half the batch lands on a few hot blocks, so writes of one batch overlap each other.
        long offset = random.nextBoolean() ? 4096L * random.nextInt(8)
            : 512L * random.nextInt((int) (SIZE - length) / 512);
        byte[] data = random(length, round * 100L + i);
        offsets[i] = offset;
        // Direct and heap payloads, positioned inside a larger buffer as a read buffer's slices are.
        ByteBuffer holder = random.nextBoolean() ? ByteBuffer.allocateDirect(length + 64) : ByteBuffer.allocate(length + 64);
        holder.position(32);
        holder.put(data).position(32).limit(32 + length);
        payloads[i] = holder;
        System.arraycopy(data, 0, model, (int) offset, length);
      }
      assertThat(device.writeAll(offsets, payloads, count)).isEqualTo(count);
      assertThat(payloads).allSatisfy(p -> assertThat(p.hasRemaining()).as("payload consumed").isFalse());
    }
    assertThat(Arrays.mismatch(read(0, (int) SIZE), model)).isEqualTo(-1);
    device.flush();
    device = reopen(device);
    assertThat(Arrays.mismatch(read(0, (int) SIZE), model)).as("after reopen").isEqualTo(-1);
  }

  @Test
  void requestsOutsideTheDeviceAreRefusedAndTheDeviceKeepsWorking() throws Exception {
    assertThatThrownBy(() -> device.read(SIZE - 4096, ByteBuffer.allocate(8192)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside");
    assertThatThrownBy(() -> device.write(SIZE, ByteBuffer.allocate(4096), false))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> device.trim(-4096, 4096, false)).isInstanceOf(IllegalArgumentException.class);
    device.write(0, ByteBuffer.wrap(random(4096, 9)), true);
    assertThat(read(0, 4096)).isEqualTo(random(4096, 9));
  }

  @Test
  void flushedWritesSurviveAReopen() throws Exception {
    byte[] data = random(256 << 10, 4);
    device.write(4096, ByteBuffer.wrap(data), false);
    device.flush();
    device = reopen(device);
    assertThat(read(4096, data.length)).isEqualTo(data);
  }
}
