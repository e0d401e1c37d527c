package dev.remap.csi.node;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

import static dev.remap.engine.nbd.NbdProtocol.*;

/**
 * The byte helpers the {@link ReconnectingProxy} needs on both of its sides. The protocol's
 * numbers are the engine's ({@link dev.remap.engine.nbd.NbdProtocol}); the proxy speaks only the
 * small part of the protocol a reconnecting pass-through needs (fixed newstyle, simple replies).
 * Everything on the wire is big-endian, as {@link ByteBuffer} is by default.
 */
final class ProxyWire {

  private ProxyWire() {}

  /** Commands a client may have been offered; a reconnect must still offer each of them. */
  static final int TFLAG_COMMANDS = TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM
      | TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_FAST_ZERO;

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
