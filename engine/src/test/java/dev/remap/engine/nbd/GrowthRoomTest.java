package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.nbd.RawClient.Reply;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server with growth room (the node's): one connection held open across a growth of its
 * volume sees the new space at once, and nothing past the volume's end can be written before.
 */
class GrowthRoomTest {

  private static final long MIB = 1 << 20;
  private static final long SIZE = 8 * MIB;
  /** 2^24 chunks of the volume's 1 MiB chunk. */
  private static final long CEILING = (1L << 24) * MIB;

  @TempDir Path tmp;
  private ServedStore served;

  @BeforeEach
  void serve() throws Exception {
    served = ServedStore.start(tmp, NbdServer.Options.unix(tmp.resolve("nbd.sock")).withGrowthRoom())
        .volume("vm1", SIZE);
  }

  @AfterEach
  void stop() throws Exception {
    served.close();
  }

  @Test
  void aConnectionSeesTheVolumeGrowWithoutReconnecting() throws Exception {
    try (RawClient c = new RawClient(served.socket).hello()) {
      assertThat(c.go("vm1")).isEqualTo(CEILING);
      byte[] head = pattern(0x11, 4096);
      assertThat(write(c, 1, 0, head).error()).isZero();

      // Past the end: writes are refused as the protocol asks for a full device; reads are zeros.
      assertThat(write(c, 2, SIZE, pattern(0x22, 4096)).error()).isEqualTo(ENOSPC);
      assertThat(write(c, 3, SIZE - 4096, pattern(0x22, 8192)).error()).isEqualTo(ENOSPC);
      assertThat(read(c, 4, SIZE - 4096, 8192)).containsOnly(0);
      assertThat(zeroes(c, 5, SIZE, 4096).error()).isZero();
      assertThat(trim(c, 6, SIZE - 4096, 8192).error()).isZero();
      assertThat(holes(extents(c, 7, SIZE - 4096, 8192))).isEqualTo(8192);

      served.volumes.resize("vm1", 2 * SIZE);

      byte[] tail = pattern(0x33, 8192);
      assertThat(write(c, 8, SIZE - 4096, tail).error()).isZero();
      assertThat(read(c, 9, SIZE - 4096, 8192)).isEqualTo(tail);
      assertThat(read(c, 10, 0, 4096)).isEqualTo(head);
      assertThat(write(c, 11, 2 * SIZE, pattern(0x44, 512)).error()).isEqualTo(ENOSPC);
      assertThat(holes(extents(c, 12, SIZE - 4096, 8192))).isZero(); // written now: data, not holes
    }
    // A fresh connection after the server let go of the volume: the growth and the data stayed.
    assertThat(served.volumes.find("vm1").orElseThrow().geometry().size()).isEqualTo(2 * SIZE);
    try (RawClient c = new RawClient(served.socket).hello()) {
      assertThat(c.go("vm1")).isEqualTo(CEILING);
      assertThat(read(c, 1, SIZE - 4096, 8192)).isEqualTo(pattern(0x33, 8192));
    }
  }

  @Test
  void snapshotsAreServedAtTheirOwnSize() throws Exception {
    served.volumes.snapshot("vm1", "s1");
    try (RawClient c = new RawClient(served.socket).hello()) {
      assertThat(c.go("vm1@s1")).isEqualTo(SIZE);
    }
  }

  /** How many bytes of the (offset, length, flags) triples are holes reading as zeros. */
  private static long holes(Long[] triples) {
    long bytes = 0;
    for (int i = 0; i < triples.length; i += 3) {
      if (triples[i + 2] == 3) {
        bytes += triples[i + 1];
      }
    }
    return bytes;
  }

  private static byte[] pattern(int value, int length) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }

  private static Reply write(RawClient c, long handle, long offset, byte[] data) throws Exception {
    c.request(0, CMD_WRITE, handle, offset, data.length, data);
    return c.readReply();
  }

  private static Reply zeroes(RawClient c, long handle, long offset, long length) throws Exception {
    c.request(0, CMD_WRITE_ZEROES, handle, offset, length, null);
    return c.readReply();
  }

  private static Reply trim(RawClient c, long handle, long offset, long length) throws Exception {
    c.request(0, CMD_TRIM, handle, offset, length, null);
    return c.readReply();
  }

  /** The bytes of a structured read reply (one data chunk after the 8-byte offset). */
  private static byte[] read(RawClient c, long handle, long offset, int length) throws Exception {
    c.request(0, CMD_READ, handle, offset, length, null);
    ByteBuffer out = ByteBuffer.allocate(length);
    while (true) {
      Reply r = c.readReply();
      assertThat(r.error()).as("read at %d", offset).isZero();
      if (r.data().length > 8) {
        out.position((int) (ByteBuffer.wrap(r.data()).getLong() - offset));
        out.put(r.data(), 8, r.data().length - 8);
      }
      if ((r.flags() & REPLY_FLAG_DONE) != 0) {
        return out.array();
      }
    }
  }

  /** Block status as (offset, length, flags) triples, from the reply's descriptors. */
  private static Long[] extents(RawClient c, long handle, long offset, long length) throws Exception {
    c.request(0, CMD_BLOCK_STATUS, handle, offset, length, null);
    java.util.List<Long> triples = new java.util.ArrayList<>();
    while (true) {
      Reply r = c.readReply();
      assertThat(r.error()).isZero();
      ByteBuffer d = ByteBuffer.wrap(r.data());
      if (d.remaining() >= 4) {
        d.getInt(); // metadata context id
        long at = offset;
        while (d.remaining() >= 8) {
          long len = Integer.toUnsignedLong(d.getInt());
          triples.add(at);
          triples.add(len);
          triples.add((long) d.getInt());
          at += len;
        }
      }
      if ((r.flags() & REPLY_FLAG_DONE) != 0) {
        return triples.toArray(Long[]::new);
      }
    }
  }
}
