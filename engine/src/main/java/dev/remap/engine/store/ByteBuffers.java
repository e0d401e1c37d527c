package dev.remap.engine.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/** Moving bytes between ByteBuffers and streams without an extra copy where the buffer allows. */
final class ByteBuffers {

  private static final int CHUNK = 64 * 1024;

  private ByteBuffers() {}

  /** Reads from in until dst is full or the stream ends; returns the bytes read, advancing dst. */
  static int readFully(InputStream in, ByteBuffer dst) throws IOException {
    int read = 0;
    byte[] chunk = dst.hasArray() ? null : new byte[Math.min(dst.remaining(), CHUNK)];
    while (dst.hasRemaining()) {
      int n;
      if (chunk == null) {
        n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
        if (n > 0) {
          dst.position(dst.position() + n);
        }
      } else {
        n = in.read(chunk, 0, Math.min(chunk.length, dst.remaining()));
        if (n > 0) {
          dst.put(chunk, 0, n);
        }
      }
      if (n < 0) {
        break;
      }
      read += n;
    }
    return read;
  }

  /** A stream over the buffer's remaining bytes; reading it advances the buffer (pass a duplicate). */
  static InputStream inputStream(ByteBuffer buffer) {
    return new InputStream() {
      @Override
      public int read() {
        return buffer.hasRemaining() ? buffer.get() & 0xff : -1;
      }

      @Override
      public int read(byte[] bytes, int offset, int length) {
        if (length == 0) {
          return 0;
        }
        if (!buffer.hasRemaining()) {
          return -1;
        }
        int n = Math.min(length, buffer.remaining());
        buffer.get(bytes, offset, n);
        return n;
      }

      @Override
      public int available() {
        return buffer.remaining();
      }
    };
  }
}
