package dev.remap.csi.node;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The NBD numbers and byte helpers the {@link ReconnectingProxy} needs on both of its sides. The
 * engine has its own (package-private) codecs; the proxy speaks only the small part of the
 * protocol a reconnecting pass-through needs (fixed newstyle, simple replies), so it keeps its
 * own copy of those numbers rather than widen the engine's API for it. Values are fixed by the
 * NBD protocol; everything on the wire is big-endian, as {@link ByteBuffer} is by default.
 */
final class ProxyWire {

  private ProxyWire() {}

  static final long NBDMAGIC = 0x4e42444d41474943L;
  static final long IHAVEOPT = 0x49484156454F5054L;
  static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
  static final int FLAG_FIXED_NEWSTYLE = 1;
  static final int FLAG_NO_ZEROES = 2;

  static final int OPT_EXPORT_NAME = 1;
  static final int OPT_ABORT = 2;
  static final int OPT_LIST = 3;
  static final int OPT_INFO = 6;
  static final int OPT_GO = 7;

  static final int REP_ACK = 1;
  static final int REP_SERVER = 2;
  static final int REP_INFO = 3;
  static final int REP_ERR_UNSUP = 0x80000001;
  static final int REP_ERR_INVALID = 0x80000003;
  static final int REP_ERR_UNKNOWN = 0x80000006;
  static final int REP_ERR_TOO_BIG = 0x80000009;

  static final int INFO_EXPORT = 0;
  static final int INFO_BLOCK_SIZE = 3;

  static final int TFLAG_HAS_FLAGS = 1;
  static final int TFLAG_READ_ONLY = 1 << 1;
  static final int TFLAG_SEND_FLUSH = 1 << 2;
  static final int TFLAG_SEND_FUA = 1 << 3;
  static final int TFLAG_SEND_TRIM = 1 << 5;
  static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
  static final int TFLAG_SEND_DF = 1 << 7;
  static final int TFLAG_SEND_FAST_ZERO = 1 << 11;
  /** Commands a client may have been offered; a reconnect must still offer each of them. */
  static final int TFLAG_COMMANDS = TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM
      | TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_FAST_ZERO;

  static final int REQUEST_MAGIC = 0x25609513;
  static final int REQUEST_HEADER = 28;
  static final int SIMPLE_REPLY_MAGIC = 0x67446698;
  static final int SIMPLE_REPLY_HEADER = 16;
  static final int CMD_READ = 0;
  static final int CMD_WRITE = 1;
  static final int CMD_DISC = 2;

  static final int EPERM = 1;
  static final int EIO = 5;
  static final int EINVAL = 22;
  static final int ESHUTDOWN = 108;

  /** The largest READ or WRITE the engine takes (its NBD_INFO_BLOCK_SIZE maximum). */
  static final int MAX_PAYLOAD = 32 << 20;
  /** Option data beyond this is refused: names are at most 4096 bytes. */
  static final int MAX_OPTION_DATA = 64 << 10;

  /** Fills the buffer from the channel; EOF before it is full is an error. Returns it flipped. */
  static ByteBuffer readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new EOFException("connection closed by the peer");
      }
    }
    return buffer.flip();
  }

  static ByteBuffer read(SocketChannel channel, int length) throws IOException {
    return readFully(channel, ByteBuffer.allocate(length));
  }

  static void writeFully(SocketChannel channel, ByteBuffer... buffers) throws IOException {
    for (ByteBuffer b : buffers) {
      while (b.hasRemaining()) {
        channel.write(b);
      }
    }
  }

  static ByteBuffer optionReply(int option, int type, byte[] payload) {
    return ByteBuffer.allocate(20 + payload.length).putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type)
        .putInt(payload.length).put(payload).flip();
  }

  static ByteBuffer optionError(int option, int type, String message) {
    byte[] text = message.getBytes(StandardCharsets.UTF_8);
    return optionReply(option, type, java.util.Arrays.copyOf(text, Math.min(text.length, 4096)));
  }

  static ByteBuffer simpleReply(long cookie, int error) {
    return ByteBuffer.allocate(SIMPLE_REPLY_HEADER).putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie).flip();
  }

  static String utf8(ByteBuffer data, int length) {
    byte[] bytes = new byte[length];
    data.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
