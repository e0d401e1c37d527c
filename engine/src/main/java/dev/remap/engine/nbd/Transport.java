package dev.remap.engine.nbd;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The bytes of one connection, plain or inside TLS, over a non-blocking socket. Nothing here
 * blocks: {@link Wire} waits for readiness and decides who writes when.
 *
 * <p>Threads: reads come from the connection's reader thread only; writes and {@link #flush}
 * are called under {@link Wire}'s output lock only.
 */
interface Transport extends Closeable {

  SocketChannel channel();

  /** Reads what is there now into dst: the count, 0 when nothing is, -1 at the end of the stream. */
  int read(ByteBuffer dst) throws IOException;

  /**
   * Reads what is there now into dsts, in order: the count, 0 when nothing is. The default goes
   * buffer by buffer; a plain socket reads them all in one call, straight into their memory.
   */
  default long read(ByteBuffer[] dsts) throws IOException {
    long total = 0;
    for (ByteBuffer dst : dsts) {
      if (!dst.hasRemaining()) {
        continue;
      }
      int n = read(dst);
      if (n < 0) {
        return total == 0 ? -1 : total;
      }
      total += n;
      if (dst.hasRemaining()) {
        break;
      }
    }
    return total;
  }

  /**
   * True when bytes pass through the transport's own buffers on their way (TLS decrypts and
   * encrypts them), so a paged device's payloads are copied after all.
   */
  default boolean copies() {
    return true;
  }

  /** Takes what the socket accepts now from srcs (in order); returns the bytes taken. */
  long write(ByteBuffer[] srcs) throws IOException;

  /** Sends output the transport holds itself (TLS records); true when none is left. */
  boolean flush() throws IOException;

  /** True when bytes wait inside the transport, so a read succeeds without the socket being readable. */
  boolean hasBufferedInput();

  /** A plain socket. */
  static Transport plain(SocketChannel channel) {
    return new Transport() {
      @Override
      public SocketChannel channel() {
        return channel;
      }

      @Override
      public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
      }

      @Override
      public long read(ByteBuffer[] dsts) throws IOException {
        return channel.read(dsts);
      }

      @Override
      public boolean copies() {
        return false;
      }

      @Override
      public long write(ByteBuffer[] srcs) throws IOException {
        return channel.write(srcs);
      }

      @Override
      public boolean flush() {
        return true;
      }

      @Override
      public boolean hasBufferedInput() {
        return false;
      }

      @Override
      public void close() throws IOException {
        channel.close();
      }
    };
  }
}
