package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.nbd.RawClient.Reply;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes that arrive together (a client with a deep queue sends them in one go) are written by
 * the connection's reader thread as one batch and answered together: every request gets exactly
 * its own reply, a bad one in the middle gets its error while its neighbours are written, FUA and
 * flush keep their meaning, and the bytes end as the requests said, in order.
 */
class PipelinedWritesTest {

  private static final long SIZE = 16 << 20;

  @TempDir Path tmp;
  private ServedStore served;

  @BeforeEach
  void serve() throws Exception {
    served = ServedStore.start(tmp, 4L << 20).volume("vm1", SIZE);
  }

  @AfterEach
  void stop() throws Exception {
    served.close();
  }

  @Test
  void aBurstOfWritesIsAnsweredOncePerRequestAndEndsAsSentInOrder() throws Exception {
    byte[] model = new byte[(int) SIZE];
    Random random = new Random(5);
    try (RawClient c = new RawClient(served.socket).hello()) {
      assertThat(c.go("vm1")).isEqualTo(SIZE);
      // Some pages in the RAM tier first, so the batch must drop them.
      for (int i = 0; i < 8; i++) {
        c.request(0, CMD_READ, 9000 + i, i * 4096L, 4096, null);
        assertThat(c.readReply().error()).isZero();
      }
      for (int round = 0; round < 5; round++) {
        Map<Long, Integer> expected = new HashMap<>();
        ByteBuffer burst = ByteBuffer.allocate(8 << 20);
        for (int i = 0; i < 150; i++) {
          long handle = round * 1000L + i;
          if (i == 70) {
            // Past the end: refused on its own (ENOSPC, as the protocol asks), its neighbours written.
            putRequest(burst, 0, CMD_WRITE, handle, SIZE - 4096, new byte[8192]);
            expected.put(handle, ENOSPC);
            continue;
          }
          int length = 4096 * (1 + (random.nextInt(10) == 0 ? random.nextInt(64) : random.nextInt(2)));
          // Many land on the first pages: writes of one batch overwrite each other.
          long offset = random.nextBoolean() ? 4096L * random.nextInt(8) : 4096L * random.nextInt((int) ((SIZE - length) / 4096));
          byte[] data = new byte[length];
          random.nextBytes(data);
          int flags = random.nextInt(8) == 0 ? CMD_FLAG_FUA : 0;
          putRequest(burst, flags, CMD_WRITE, handle, offset, data);
          System.arraycopy(data, 0, model, (int) offset, length);
          expected.put(handle, 0);
        }
        putRequest(burst, 0, CMD_FLUSH, round * 1000L + 999, 0, null);
        expected.put(round * 1000L + 999, 0);
        c.write(burst.flip());
        while (!expected.isEmpty()) {
          Reply reply = c.readReply();
          Integer error = expected.remove(reply.handle());
          assertThat(error).as("a reply for handle %d, which was sent and not answered yet", reply.handle()).isNotNull();
          assertThat(reply.error()).as("error of handle %d", reply.handle()).isEqualTo(error);
        }
        assertThat(expected).as("requests without a reply").isEmpty();
      }
      byte[] back = new byte[(int) SIZE];
      for (long at = 0; at < SIZE; at += 1 << 20) {
        c.request(0, CMD_READ, 7, at, 1 << 20, null);
        Reply reply = c.readReply();
        assertThat(reply.error()).isZero();
        // A structured read reply: offset (8 bytes), then the data.
        System.arraycopy(reply.data(), 8, back, (int) at, 1 << 20);
      }
      assertThat(Arrays.mismatch(back, model)).as("first byte that differs from the requests in order").isEqualTo(-1);
    }
    // And after a restart of the server, the same bytes.
    served.close();
    served = ServedStore.start(tmp, 4L << 20);
    try (RawClient c = new RawClient(served.socket).hello()) {
      c.go("vm1");
      c.request(0, CMD_READ, 8, 0, 1 << 20, null);
      Reply reply = c.readReply();
      assertThat(Arrays.copyOfRange(reply.data(), 8, 8 + (1 << 20))).isEqualTo(Arrays.copyOf(model, 1 << 20));
    }
  }

  private static void putRequest(ByteBuffer b, int flags, int type, long handle, long offset, byte[] payload) {
    b.putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(handle).putLong(offset)
        .putInt(payload == null ? 0 : payload.length);
    if (payload != null) {
      b.put(payload);
    }
  }
}
