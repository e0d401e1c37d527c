package dev.remap.engine.block;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The concurrency contract's judges reject what they are there to catch, and accept what a correct device may do. */
class BlockHistoryTest {

  @Test
  void aReadMaySeeAnOverlappingWriteOrTheLastReturnedOneButNothingOlder() {
    BlockHistory history = new BlockHistory();
    history.add(7, 10, 20);
    history.add(8, 30, 40);
    // Overlapping the write of 7: the zeros before it, or 7.
    assertThat(history.mayRead(BlockStamp.ZERO, 15, 25)).isTrue();
    assertThat(history.mayRead(7, 15, 25)).isTrue();
    // After 7 returned, before 8 was called: 7 only.
    assertThat(history.mayRead(BlockStamp.ZERO, 21, 29)).as("zeros after a write returned").isFalse();
    assertThat(history.mayRead(8, 21, 29)).as("a value written only after the read returned").isFalse();
    assertThat(history.mayRead(7, 21, 29)).isTrue();
    // After 8 returned: 8 only (7 is what a stale cache would give).
    assertThat(history.mayRead(7, 41, 45)).isFalse();
    assertThat(history.mayRead(8, 41, 45)).isTrue();
    assertThat(history.mayRead(9, 41, 45)).as("a value nobody wrote").isFalse();
    assertThat(history.lastValues()).containsExactly(8L);
  }

  @Test
  void writesThatOverlapInTimeMayEachBeLast() {
    BlockHistory history = new BlockHistory();
    history.add(7, 10, 30);
    history.add(8, 20, 40);
    assertThat(history.lastValues()).containsExactly(7L, 8L);
    assertThat(history.mayRead(7, 50, 51)).isTrue();
  }

  @Test
  void aStampDecodesToItsWriteAndAnythingElseToTornOrZero() {
    ByteBuffer block = ByteBuffer.allocate(4096);
    BlockStamp.put(block, 42, 5, 4096);
    assertThat(BlockStamp.decode(block.flip(), 5, 4096)).isEqualTo(42);
    assertThat(BlockStamp.decode(block.flip(), 6, 4096)).as("another block's stamp").isEqualTo(BlockStamp.TORN);
    block.put(4000, (byte) (block.get(4000) + 1));
    assertThat(BlockStamp.decode(block.position(0), 5, 4096)).as("one byte changed").isEqualTo(BlockStamp.TORN);
    assertThat(BlockStamp.decode(ByteBuffer.allocate(4096), 5, 4096)).isEqualTo(BlockStamp.ZERO);
  }
}
