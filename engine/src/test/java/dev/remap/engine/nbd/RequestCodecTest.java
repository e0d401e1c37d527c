package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.block.BlockDevice.Extent;
import dev.remap.engine.nbd.Negotiation.Session;
import dev.remap.engine.nbd.RequestCodec.Request;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Request parsing, the checks that refuse requests, and the exact bytes of every reply. */
class RequestCodecTest {

  private static final long SIZE = 1 << 20;
  private static final Session WRITABLE = new Session(new ExportInfo("vm1", SIZE, false, 4096), 0, true, true);
  private static final Session SIMPLE = new Session(new ExportInfo("vm1", SIZE, false, 4096), 0, false, false);
  private static final Session SNAPSHOT = new Session(new ExportInfo("vm1@s", SIZE, true, 4096), 0, true, true);

  private static Integer errno(Request r, Session s) {
    RequestCodec.Rejection rejection = RequestCodec.check(r, s);
    return rejection == null ? 0 : rejection.error();
  }

  @Test
  void parsesAHeaderWithUnsignedFields() throws Exception {
    ByteBuffer b = ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) 0x8001).putShort((short) 7)
        .putLong(-2).putLong(1234).putInt(-1).flip();
    Request r = RequestCodec.parse(b);
    assertThat(r).isEqualTo(new Request(0x8001, 7, -2, 1234, 0xffffffffL));
  }

  @Test
  void checksRangesFlagsAndPermissions() {
    assertThat(errno(new Request(0, CMD_READ, 1, 0, 4096), WRITABLE)).isZero();
    assertThat(errno(new Request(0, CMD_READ, 1, SIZE - 1, 1), WRITABLE)).isZero();
    assertThat(errno(new Request(0, CMD_READ, 1, SIZE - 1, 2), WRITABLE)).isEqualTo(EINVAL);
    assertThat(errno(new Request(0, CMD_READ, 1, Long.MAX_VALUE, 2), WRITABLE)).isEqualTo(EINVAL);
    assertThat(errno(new Request(0, CMD_READ, 1, -4096, 4096), WRITABLE)).isEqualTo(EINVAL);
    assertThat(errno(new Request(0, CMD_WRITE, 1, SIZE, 1), WRITABLE)).isEqualTo(ENOSPC);
    assertThat(errno(new Request(0, CMD_WRITE_ZEROES, 1, SIZE - 1, 2), WRITABLE)).isEqualTo(ENOSPC);
    assertThat(errno(new Request(0, CMD_READ, 1, 0, 0), WRITABLE)).isEqualTo(EINVAL);
    assertThat(errno(new Request(0, CMD_READ, 1, 0, MAX_PAYLOAD + 1L), WRITABLE)).isEqualTo(EOVERFLOW);
    assertThat(errno(new Request(0, CMD_READ, 1, 0, MAX_PAYLOAD + 1L), SIMPLE)).isEqualTo(EINVAL);
    assertThat(errno(new Request(0, CMD_TRIM, 1, 0, SIZE), WRITABLE)).isZero();
    assertThat(errno(new Request(0, 5, 1, 0, 4096), WRITABLE)).isEqualTo(EINVAL);     // CACHE: not offered
    assertThat(errno(new Request(0, 9, 1, 0, 4096), WRITABLE)).isEqualTo(EINVAL);
    assertThat(errno(new Request(CMD_FLAG_DF, CMD_READ, 1, 0, 4096), WRITABLE)).isZero();
    assertThat(errno(new Request(CMD_FLAG_DF, CMD_READ, 1, 0, 4096), SIMPLE)).isEqualTo(EINVAL);
    assertThat(errno(new Request(CMD_FLAG_FUA, CMD_READ, 1, 0, 4096), WRITABLE)).isZero(); // FUA is valid on all
    assertThat(errno(new Request(CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO, CMD_WRITE_ZEROES, 1, 0, 4096), WRITABLE)).isZero();
    assertThat(errno(new Request(CMD_FLAG_NO_HOLE, CMD_TRIM, 1, 0, 4096), WRITABLE)).isEqualTo(EINVAL);
    assertThat(errno(new Request(CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 1, 0, 4096), WRITABLE)).isZero();
    assertThat(errno(new Request(0, CMD_BLOCK_STATUS, 1, 0, 4096), SIMPLE)).isEqualTo(EINVAL);
    assertThat(errno(new Request(0, CMD_WRITE, 1, 0, 4096), SNAPSHOT)).isEqualTo(EPERM);
    assertThat(errno(new Request(0, CMD_TRIM, 1, 0, 4096), SNAPSHOT)).isEqualTo(EPERM);
    assertThat(errno(new Request(0, CMD_FLUSH, 1, 0, 0), SNAPSHOT)).isZero();
    assertThat(errno(new Request(0, CMD_READ, 1, 0, 4096), SNAPSHOT)).isZero();
  }

  @Test
  void encodesSimpleAndStructuredReplies() {
    ByteBuffer simple = RequestCodec.simpleReply(9, EIO);
    assertThat(simple.getInt()).isEqualTo(SIMPLE_REPLY_MAGIC);
    assertThat(simple.getInt()).isEqualTo(EIO);
    assertThat(simple.getLong()).isEqualTo(9);

    ByteBuffer read = RequestCodec.readReplyHeader(5, 4096, 512, true);
    assertThat(read.remaining()).isEqualTo(28);
    assertThat(read.getInt()).isEqualTo(STRUCTURED_REPLY_MAGIC);
    assertThat(read.getShort()).isEqualTo((short) REPLY_FLAG_DONE);
    assertThat(read.getShort()).isEqualTo((short) REPLY_TYPE_OFFSET_DATA);
    assertThat(read.getLong()).isEqualTo(5);
    assertThat(read.getInt()).isEqualTo(8 + 512);
    assertThat(read.getLong()).isEqualTo(4096);

    ByteBuffer error = RequestCodec.error(6, EINVAL, "no", true);
    error.position(6);
    assertThat(error.getShort()).isEqualTo((short) REPLY_TYPE_ERROR);
    error.position(16);
    assertThat(error.getInt()).isEqualTo(6 + 2);
    assertThat(error.getInt()).isEqualTo(EINVAL);
    assertThat(error.getShort()).isEqualTo((short) 2);

    ByteBuffer none = RequestCodec.done(7, true);
    assertThat(none.remaining()).isEqualTo(20);
  }

  @Test
  void blockStatusJoinsEqualNeighboursClipsToTheRequestAndHonoursReqOne() {
    List<Extent> extents = List.of(new Extent(0, 4096, false, false), new Extent(4096, 4096, false, false),
        new Extent(8192, 8192, true, true), new Extent(16384, 4096, false, true));
    assertThat(descriptors(RequestCodec.blockStatus(1, 1000, 18000, extents, false)))
        .containsExactly(7192L, 0L, 8192L, 3L, 2616L, 2L);
    assertThat(descriptors(RequestCodec.blockStatus(1, 1000, 18000, extents, true))).containsExactly(7192L, 0L);
    assertThat(descriptors(RequestCodec.blockStatus(1, 0, 4096, List.of(), false))).containsExactly(4096L, 0L);

    List<Extent> many = new ArrayList<>();
    for (int i = 0; i < 3 * MAX_EXTENTS; i++) {
      many.add(new Extent(i * 512L, 512, i % 2 == 0, i % 2 == 0));
    }
    assertThat(descriptors(RequestCodec.blockStatus(1, 0, 3 * MAX_EXTENTS * 512L, many, false)))
        .hasSize(2 * MAX_EXTENTS);
  }

  /** (length, flags) pairs of a BLOCK_STATUS chunk. */
  private static List<Long> descriptors(ByteBuffer chunk) {
    chunk.position(16);
    int length = chunk.getInt();
    assertThat(chunk.remaining()).isEqualTo(length);
    assertThat(chunk.getInt()).isEqualTo(BASE_ALLOCATION_ID);
    List<Long> out = new ArrayList<>();
    while (chunk.hasRemaining()) {
      out.add(Integer.toUnsignedLong(chunk.getInt()));
      out.add((long) chunk.getInt());
    }
    return out;
  }
}
