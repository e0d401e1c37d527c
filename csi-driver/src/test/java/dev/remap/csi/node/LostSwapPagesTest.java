package dev.remap.csi.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.PagedDevice;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.swap.PagePool;
import dev.remap.engine.swap.SwapExports;
import dev.remap.engine.swap.SwapSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A swap disk made again after a restart, on the engine's real disk: the pages the guest swapped
 * out before are lost and fail to read, the fresh signature and what is written since read back,
 * and what one connection wrote is found by the next.
 */
class LostSwapPagesTest {

  private static final int PAGE = PagePool.PAGE;
  private static final StackSpec SPEC = new StackSpec(0, PAGE, 1, 16, 1 << 20, false, Optional.empty());

  @Test
  void lostPagesFailUntilWrittenAgainAndTheSignatureReads() throws IOException {
    try (SwapExports exports = new SwapExports(new PagePool(8L << 20))) {
      SwapSpec spec = new SwapSpec("swap/ns/vm", 4L << 20, 4L << 20, Optional.empty(), true, Optional.of("vmswap"));
      exports.create(spec);
      LostSwapPages lost = new LostSwapPages(spec.name(), spec.size(), true);
      BlockDevice first = lost.over(exports.open(spec.name(), SPEC).orElseThrow().device());

      ByteBuffer page0 = ByteBuffer.allocate(PAGE);
      first.read(0, page0);
      assertThat(new String(page0.array(), PAGE - 10, 10, StandardCharsets.US_ASCII)).isEqualTo("SWAPSPACE2");
      assertThatThrownBy(() -> first.read(5L * PAGE, ByteBuffer.allocate(PAGE)))
          .isInstanceOf(IOException.class).hasMessageContaining("page 5 of swap disk swap/ns/vm")
          .hasMessageContaining("lost");
      assertThatThrownBy(() -> ((PagedDevice) first).send(4L * PAGE, 2 * PAGE))
          .isInstanceOf(IOException.class).hasMessageContaining("page 4 ");

      // A swap-out through the zero-copy path: the page is the guest's again.
      PagedDevice.Incoming in = ((PagedDevice) first).receive(5L * PAGE, PAGE);
      for (ByteBuffer b : in.buffers()) {
        while (b.hasRemaining()) {
          b.put((byte) 0x5a);
        }
      }
      in.commit();
      // A partial write leaves its page lost: the rest of it is not the guest's.
      first.write(7L * PAGE, ByteBuffer.wrap(new byte[512]), false);
      first.trim(8L * PAGE, 2L * PAGE, false);
      assertThat(lost.count()).isEqualTo(1024 - 1 - 1 - 2);

      BlockDevice next = lost.over(exports.open(spec.name(), SPEC).orElseThrow().device());
      try (PagedDevice.Outgoing out = ((PagedDevice) next).send(5L * PAGE, PAGE)) {
        ByteBuffer b = out.buffers()[0];
        assertThat(b.get(0)).isEqualTo((byte) 0x5a);
        assertThat(b.get(PAGE - 1)).isEqualTo((byte) 0x5a);
      }
      ByteBuffer trimmed = ByteBuffer.allocate(2 * PAGE);
      next.read(8L * PAGE, trimmed);
      assertThat(trimmed.array()).containsOnly(0);
      assertThatThrownBy(() -> next.read(7L * PAGE, ByteBuffer.allocate(PAGE))).isInstanceOf(IOException.class);
    }
  }

  @Test
  void withoutASignatureEveryPageIsLost() throws IOException {
    LostSwapPages lost = new LostSwapPages("swap/ns/blank", 1L << 20, false);
    assertThat(lost.count()).isEqualTo(256);
  }
}
