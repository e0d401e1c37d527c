package dev.remap.engine.nbd;

import dev.remap.engine.metrics.EngineMetrics;
import dev.remap.engine.export.ExportSource;
import dev.remap.engine.export.ExportStack;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.export.VolumeExports;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;

/**
 * Serves the exports of an {@link ExportSource} over NBD, on a Unix socket and/or TCP (for a
 * store's volumes, {@link VolumeExports}: a volume as the export of its name, read-write, a
 * snapshot as {@code VOLUME@SNAPSHOT}, read-only). The server speaks only to the stack
 * ({@link ExportStack}) each export is served through.
 *
 * <p>One accept thread per listener and one reader thread per connection; requests run on each
 * export's transfer workers. {@link #close()} is the graceful stop (SIGTERM): no new
 * connections, requests in flight finish and are answered, then the volumes close, which syncs
 * their journals and uploads what it can.
 */
public final class NbdServer implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(NbdServer.class.getName());

  /**
   * How to serve.
   *
   * @param socket Unix socket path, or null
   * @param tcp TCP address, or null; a non-loopback address needs tls or plainTcpAnywhere
   * @param tls TLS for TCP connections (then required there), or null
   * @param plainTcpAnywhere the operator explicitly allows unencrypted TCP beyond loopback
   * @param ramCacheBytes RAM cache per open export (0: none)
   * @param workers transfer workers per open export
   * @param maxConnections connections beyond this are closed at once
   * @param growthRoom volume exports advertise the largest size their volume may grow to, so
   *     that a client holding a connection sees growth without reconnecting: past the volume's
   *     current end reads are zeros and writes ENOSPC. For clients that learn the real size
   *     elsewhere, such as the node's loop devices; off for everyone else.
   */
  public record Options(Path socket, InetSocketAddress tcp, SSLContext tls, boolean plainTcpAnywhere,
      long ramCacheBytes, int workers, int maxConnections, boolean growthRoom) {

    public static final long DEFAULT_RAM_CACHE = 256L << 20;
    public static final int DEFAULT_WORKERS = 4;
    public static final int DEFAULT_MAX_CONNECTIONS = 256;

    public Options {
      if (socket == null && tcp == null) {
        throw new IllegalArgumentException("give a Unix socket path, a TCP address, or both");
      }
      if (tcp != null && tcp.isUnresolved()) {
        throw new IllegalArgumentException("cannot resolve the listen address " + tcp.getHostString());
      }
      if (tcp != null && !tcp.getAddress().isLoopbackAddress() && tls == null && !plainTcpAnywhere) {
        throw new IllegalArgumentException("listening on " + tcp.getHostString() + " without TLS would expose "
            + "volumes unencrypted: give a TLS certificate and key, or bind to a loopback address");
      }
      if (workers < 1 || ramCacheBytes < 0 || maxConnections < 1) {
        throw new IllegalArgumentException("workers and max connections must be positive, the RAM cache not negative");
      }
    }

    public Options(Path socket, InetSocketAddress tcp, SSLContext tls, boolean plainTcpAnywhere,
        long ramCacheBytes, int workers, int maxConnections) {
      this(socket, tcp, tls, plainTcpAnywhere, ramCacheBytes, workers, maxConnections, false);
    }

    public static Options unix(Path socket) {
      return new Options(socket, null, null, false, DEFAULT_RAM_CACHE, DEFAULT_WORKERS, DEFAULT_MAX_CONNECTIONS);
    }

    /** The stack every export gets unless the server's chooser says otherwise. */
    public StackSpec stackDefaults() {
      return new StackSpec(ramCacheBytes, RAM_PAGE, workers, QUEUE_CAPACITY, MAX_MERGED, growthRoom, Optional.empty());
    }

    /** The same options with {@code growthRoom} on. */
    public Options withGrowthRoom() {
      return new Options(socket, tcp, tls, plainTcpAnywhere, ramCacheBytes, workers, maxConnections, true);
    }
  }

  /**
   * RAM cache pages of one block (4 KiB, or the volume's block if larger). Measured against
   * 64 KiB pages (docs/BENCHMARKS.md): 64 KiB answers reads a little faster while the whole
   * export fits the cache, but once random writes have spread a volume over many journal and
   * segment spans, every 4 KiB miss that fills a 64 KiB page reads ~16 spans, and random reads
   * through a cache smaller than the disk (the normal case) were three times slower.
   */
  private static final int RAM_PAGE = 4096;
  /** Requests an export's queue holds before a connection's reader waits. */
  private static final int QUEUE_CAPACITY = 1024;
  /** The largest request adjacent ones are merged into. */
  private static final int MAX_MERGED = 1 << 20;

  private final Options options;
  private final ExportRegistry registry;
  private final List<ServerSocketChannel> listeners = new ArrayList<>();
  private final List<Thread> acceptors = new ArrayList<>();
  private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicLong connectionIds = new AtomicLong();
  /** Read buffers shared by every connection, so that a kept buffer serves whichever reads next. */
  private final ReadBuffers readBuffers = new ReadBuffers(ReadBuffers.DEFAULT_KEEP);
  private final NbdConnection.TlsUpgrade tls;
  private volatile InetSocketAddress tcpAddress;
  private volatile boolean closed;

  private NbdServer(ExportSource exports, Options options, StackSpec.Chooser stacks, EngineMetrics metrics) {
    this.options = options;
    this.registry = new ExportRegistry(exports, options.stackDefaults(), stacks, metrics);
    this.tls = options.tls() == null ? null : TlsTransport.upgrade(options.tls());
  }

  /** Binds the listeners and starts accepting; every export gets the options' stack. */
  public static NbdServer start(ExportSource exports, Options options) throws IOException {
    return start(exports, options, StackSpec.Chooser.DEFAULTS, EngineMetrics.none());
  }

  /**
   * Binds the listeners and starts accepting. Each export's stack is chosen by stacks when the
   * export opens (its first connection), from {@link Options#stackDefaults}; each export's
   * figures are recorded in metrics ({@link EngineMetrics#volume}).
   */
  public static NbdServer start(ExportSource exports, Options options, StackSpec.Chooser stacks,
      EngineMetrics metrics) throws IOException {
    NbdServer server = new NbdServer(exports, options, stacks, metrics);
    try {
      if (options.socket() != null) {
        server.listen(bindUnix(options.socket()), false);
      }
      if (options.tcp() != null) {
        ServerSocketChannel tcp = ServerSocketChannel.open(StandardProtocolFamily.INET);
        if (options.tcp().getAddress() instanceof java.net.Inet6Address) {
          tcp.close();
          tcp = ServerSocketChannel.open(StandardProtocolFamily.INET6);
        }
        tcp.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        tcp.bind(options.tcp(), 128);
        server.tcpAddress = (InetSocketAddress) tcp.getLocalAddress();
        server.listen(tcp, true);
      }
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  /**
   * The RAM tier of an export that is open now (some client is connected): its size and
   * hit/miss counters. Empty when the export is not open or has no RAM cache.
   */
  public Optional<dev.remap.engine.cache.TierCounters.Snapshot> ramCache(String export) {
    return registry.openNow(export).flatMap(e -> e.stack().ramCounters());
  }

  /** The bound TCP address (its port when 0 was asked for), or null. */
  public InetSocketAddress tcpAddress() {
    return tcpAddress;
  }

  public int connectionCount() {
    return connections.size();
  }

  /**
   * Why this server cannot take connections now, if it cannot: it was stopped, a listener's
   * thread ended, or its Unix socket file is gone (clients find the server by that path).
   */
  public Optional<String> problem() {
    if (closed) {
      return Optional.of("the NBD server is stopped");
    }
    for (Thread acceptor : acceptors) {
      if (!acceptor.isAlive()) {
        return Optional.of("the NBD server stopped accepting connections (" + acceptor.getName() + ")");
      }
    }
    if (options.socket() != null && !Files.exists(options.socket(), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return Optional.of("the NBD socket " + options.socket() + " is gone");
    }
    return Optional.empty();
  }

  private static ServerSocketChannel bindUnix(Path socket) throws IOException {
    if (Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.readAttributes(socket, java.nio.file.attribute.BasicFileAttributes.class,
          java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther()) {
        throw new IOException(socket + " exists and is not a socket: choose another --socket path");
      }
      // A socket file nobody answers on is left over from a killed server: replace it.
      try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
        throw new IOException("another server already listens on " + socket);
      } catch (IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("another server")) {
          throw e;
        }
        Files.delete(socket);
      }
    }
    Path parent = socket.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    ServerSocketChannel unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    unix.bind(UnixDomainSocketAddress.of(socket), 128);
    return unix;
  }

  private void listen(ServerSocketChannel listener, boolean tcp) {
    listeners.add(listener);
    Thread acceptor = new Thread(() -> accept(listener, tcp), "nbd-accept-" + (tcp ? "tcp" : "unix"));
    acceptor.setDaemon(true);
    acceptors.add(acceptor);
    acceptor.start();
  }

  private void accept(ServerSocketChannel listener, boolean tcp) {
    while (!closed) {
      SocketChannel channel;
      try {
        channel = listener.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        // Out of file descriptors and the like: keep serving the connections there are.
        LOG.log(Level.WARNING, "accepting a connection failed: " + e.getMessage());
        sleep(100);
        continue;
      }
      try {
        start(channel, tcp);
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.WARNING, "cannot start a connection: " + e.getMessage());
        closeQuietly(channel);
      }
    }
  }

  private void start(SocketChannel channel, boolean tcp) throws IOException {
    if (closed || connections.size() >= options.maxConnections()) {
      LOG.warning(() -> closed ? "refused a connection: shutting down"
          : "refused a connection: " + options.maxConnections() + " are open already");
      closeQuietly(channel);
      return;
    }
    String peer;
    if (tcp) {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      peer = "tcp " + channel.getRemoteAddress();
    } else {
      peer = "unix#" + connectionIds.incrementAndGet();
    }
    NbdConnection[] self = new NbdConnection[1];
    self[0] = new NbdConnection(channel, peer, registry, tcp ? tls : null, readBuffers,
        () -> connections.remove(self[0]));
    connections.add(self[0]);
    Thread thread = new Thread(self[0], "nbd-" + peer.replace(' ', '-'));
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Stops gracefully: closes the listeners, lets every connection finish the requests it has in
   * flight and answer them, then closes the volumes (journals synced).
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (ServerSocketChannel listener : listeners) {
      closeQuietly(listener);
    }
    if (options.socket() != null) {
      try {
        Files.deleteIfExists(options.socket());
      } catch (IOException e) {
        LOG.warning(() -> "cannot remove " + options.socket() + ": " + e.getMessage());
      }
    }
    for (NbdConnection connection : connections) {
      connection.stop();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!connections.isEmpty() && System.nanoTime() < deadline) {
      sleep(10);
    }
    registry.close();
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // Closing on the way out: nothing else to do.
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
