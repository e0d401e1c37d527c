package dev.remap.engine.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * TLS over the non-blocking socket, with an {@link SSLEngine}, after NBD_OPT_STARTTLS.
 *
 * <p>Locking: unwrap (reads) runs on the reader thread only; wrap (writes) runs under
 * {@code wrapLock}, which {@link Wire} callers reach while holding Wire's output lock (never the
 * other way round). SSLEngine allows one wrap and one unwrap at the same time.
 */
final class TlsTransport implements Transport {

  private final SocketChannel channel;
  private final SSLEngine engine;
  private final Object wrapLock = new Object();
  private final ByteBuffer netIn;   // ciphertext received, in write mode
  private final ByteBuffer appIn;   // plaintext decrypted, in read mode
  private final ByteBuffer netOut;  // ciphertext to send, in read mode (guarded by wrapLock)

  private TlsTransport(SocketChannel channel, SSLEngine engine) {
    this.channel = channel;
    this.engine = engine;
    int packet = engine.getSession().getPacketBufferSize();
    this.netIn = ByteBuffer.allocate(packet * 2);
    this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize() + 64).flip();
    this.netOut = ByteBuffer.allocate(packet * 2).flip();
  }

  /** The STARTTLS step of a listener with this context: a server-side handshake on the wire's socket. */
  static NbdConnection.TlsUpgrade upgrade(SSLContext context) {
    return (wire, deadline) -> {
      SSLEngine engine = context.createSSLEngine();
      engine.setUseClientMode(false);
      engine.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
      TlsTransport tls = new TlsTransport(wire.channel(), engine);
      tls.handshake(wire, deadline);
      return tls;
    };
  }

  private void handshake(Wire wire, long deadline) throws IOException {
    engine.beginHandshake();
    while (true) {
      HandshakeStatus status = engine.getHandshakeStatus();
      switch (status) {
        case NEED_TASK -> runTasks();
        case NEED_WRAP -> {
          synchronized (wrapLock) {
            wrapInto(new ByteBuffer[0]);
          }
          while (!flush()) {
            wire.awaitSocket(SelectionKey.OP_WRITE, deadline);
          }
        }
        case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
          if (!unwrapOnce() && status == HandshakeStatus.NEED_UNWRAP) {
            wire.awaitSocket(SelectionKey.OP_READ, deadline);
          }
        }
        default -> {
          while (!flush()) {
            wire.awaitSocket(SelectionKey.OP_WRITE, deadline);
          }
          return;
        }
      }
    }
  }

  /** Reads from the socket and unwraps one record; false when more ciphertext is needed. */
  private boolean unwrapOnce() throws IOException {
    int n = channel.read(netIn);
    netIn.flip();
    try {
      ByteBuffer out = appIn.compact();
      SSLEngineResult result;
      try {
        result = engine.unwrap(netIn, out);
      } finally {
        appIn.flip();
      }
      if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
        throw new EOFException("the client closed the TLS session");
      }
      if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
        runTasks();
      }
      if (result.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
        if (n < 0) {
          throw new EOFException("the client closed the connection during TLS");
        }
        return false;
      }
      return true;
    } finally {
      netIn.compact();
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  @Override
  public SocketChannel channel() {
    return channel;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    while (!appIn.hasRemaining()) {
      if (!unwrapOnce()) {
        return 0; // no whole record yet (the end of the stream is an EOFException)
      }
      if (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
        // A post-handshake message (TLS 1.3 key update) asks for an answer.
        synchronized (wrapLock) {
          wrapInto(new ByteBuffer[0]);
          flush();
        }
      }
    }
    int n = Math.min(dst.remaining(), appIn.remaining());
    dst.put(appIn.slice().limit(n));
    appIn.position(appIn.position() + n);
    return n;
  }

  @Override
  public long write(ByteBuffer[] srcs) throws IOException {
    synchronized (wrapLock) {
      long taken = 0;
      while (flush() && remaining(srcs) > 0) {
        taken += wrapInto(srcs);
      }
      return taken;
    }
  }

  /** Wraps plaintext from srcs into netOut (which must be empty); returns the plaintext taken. */
  private long wrapInto(ByteBuffer[] srcs) throws SSLException {
    ByteBuffer out = netOut.compact();
    try {
      SSLEngineResult result = engine.wrap(srcs, out);
      if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
        throw new SSLException("the TLS session is closed");
      }
      if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
        runTasks();
      }
      return result.bytesConsumed();
    } finally {
      netOut.flip();
    }
  }

  private static long remaining(ByteBuffer[] srcs) {
    long sum = 0;
    for (ByteBuffer b : srcs) {
      sum += b.remaining();
    }
    return sum;
  }

  @Override
  public boolean flush() throws IOException {
    synchronized (wrapLock) {
      if (netOut.hasRemaining()) {
        channel.write(netOut);
      }
      return !netOut.hasRemaining();
    }
  }

  @Override
  public boolean hasBufferedInput() {
    // Whole records never wait in netIn: read() returns 0 only when netIn holds part of one.
    return appIn.hasRemaining();
  }

  @Override
  public void close() throws IOException {
    try {
      synchronized (wrapLock) {
        engine.closeOutbound();
        if (channel.isOpen() && !netOut.hasRemaining()) {
          wrapInto(new ByteBuffer[0]);
          flush(); // close_notify, best effort
        }
      }
    } catch (IOException ignored) {
      // The peer is gone: there is no one to tell.
    } finally {
      channel.close();
    }
  }
}
