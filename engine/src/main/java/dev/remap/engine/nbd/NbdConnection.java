package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;

import dev.remap.engine.nbd.Negotiation.Outcome;
import dev.remap.engine.nbd.OptionCodec.OptionException;
import dev.remap.engine.nbd.OptionCodec.OptionHeader;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client, from the greeting to the close, on its own reader thread: the option phase
 * ({@link Negotiation}), then the transmission phase ({@link Transmission}). Whatever the client
 * does, the connection ends by closing its socket and releasing its export, and nothing it sends
 * can harm other connections: errors are answered, and what cannot be answered closes only this
 * connection.
 */
final class NbdConnection implements Runnable {

  private static final Logger LOG = Logger.getLogger(NbdConnection.class.getName());

  /** How long the client may take over each option (a connection that says nothing is closed). */
  static final long OPTION_TIMEOUT = TimeUnit.SECONDS.toNanos(30);

  /** Turns the plain wire into TLS after NBD_OPT_STARTTLS was acknowledged. */
  interface TlsUpgrade {
    Transport upgrade(Wire wire, long deadline) throws IOException;
  }

  private final Wire wire;
  private final String peer;
  private final ExportRegistry registry;
  private final TlsUpgrade tls;
  private final Runnable onClose;
  private final ReadBuffers buffers;
  private volatile boolean stopping;
  private volatile boolean transmitting;

  NbdConnection(SocketChannel channel, String peer, ExportRegistry registry, TlsUpgrade tls, ReadBuffers buffers,
      Runnable onClose) throws IOException {
    this.buffers = buffers;
    this.wire = new Wire(channel, buffers::give);
    this.peer = peer;
    this.registry = registry;
    this.tls = tls;
    this.onClose = onClose;
  }

  /** Asks the connection to finish what is in flight and close (server shutdown). Any thread. */
  void stop() {
    stopping = true;
    if (!transmitting) {
      // Nothing of the client's is in flight during the option phase: hang up at once.
      try {
        wire.channel().close();
      } catch (IOException ignored) {
        // Already closed.
      }
    }
    wire.wakeup();
  }

  @Override
  public void run() {
    ServedExport export = null;
    try {
      Outcome<ServedExport> go = negotiate();
      if (go != null) {
        export = go.export();
        transmitting = true;
        LOG.fine(() -> peer + ": serving " + go.session().info().name());
        new Transmission(wire, export, go.session(), buffers, () -> stopping).run();
      }
    } catch (EOFException | ClosedChannelException e) {
      LOG.fine(() -> peer + ": disconnected: " + e.getMessage());
    } catch (IOException e) {
      // Resets, broken pipes, timeouts, protocol violations: this client's business only.
      LOG.info(() -> peer + ": closed: " + e.getMessage());
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, peer + ": closed after an unexpected error: " + e, e);
    } finally {
      try {
        wire.close();
      } catch (IOException ignored) {
        // Closing a socket whose peer is gone: nothing left to do.
      }
      if (export != null) {
        registry.release(export);
      }
      onClose.run();
    }
  }

  /** The option phase; the outcome of NBD_OPT_GO / EXPORT_NAME, or null when the client leaves. */
  private Outcome<ServedExport> negotiate() throws IOException {
    Negotiation<ServedExport> negotiation = new Negotiation<>(registry, tls != null, () -> stopping);
    wire.sendAndDrain(List.of(OptionCodec.greeting()), deadline());
    ByteBuffer flags = ByteBuffer.allocate(4);
    wire.readFully(flags, deadline());
    try {
      negotiation.clientFlags(OptionCodec.parseClientFlags(flags.flip()));
    } catch (OptionException e) {
      LOG.info(() -> peer + ": closed: " + e.getMessage());
      return null;
    }
    while (true) {
      long deadline = deadline();
      ByteBuffer header = ByteBuffer.allocate(16);
      wire.readFully(header, deadline);
      OptionHeader h;
      try {
        h = OptionCodec.parseHeader(header.flip());
      } catch (OptionException e) {
        LOG.info(() -> peer + ": closed: " + e.getMessage());
        return null;
      }
      Outcome<ServedExport> outcome;
      if (h.length() > MAX_OPTION_DATA) {
        discard(h.length(), deadline);
        outcome = negotiation.tooBig(h.option());
      } else {
        ByteBuffer data = ByteBuffer.allocate((int) h.length());
        wire.readFully(data, deadline);
        outcome = negotiation.handle(h.option(), data.flip());
      }
      try {
        wire.sendAndDrain(outcome.replies(), deadline);
      } catch (IOException | RuntimeException e) {
        if (outcome.export() != null) {
          registry.release(outcome.export());
        }
        throw e;
      }
      switch (outcome.next()) {
        case CONTINUE -> { }
        case CLOSE -> {
          return null;
        }
        case START_TLS -> {
          wire.upgrade(tls.upgrade(wire, deadline));
          negotiation.tlsStarted();
        }
        case TRANSMIT -> {
          return outcome;
        }
        default -> throw new IllegalStateException("unknown step " + outcome.next());
      }
    }
  }

  private void discard(long length, long deadline) throws IOException {
    ByteBuffer scratch = ByteBuffer.allocate(64 << 10);
    long left = length;
    while (left > 0) {
      scratch.clear().limit((int) Math.min(scratch.capacity(), left));
      wire.readFully(scratch, deadline);
      left -= scratch.position();
    }
  }

  private static long deadline() {
    return System.nanoTime() + OPTION_TIMEOUT;
  }
}
