package dev.remap.csi.node;

import static dev.remap.csi.node.ProxyWire.*;
import static dev.remap.engine.nbd.NbdProtocol.*;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The reconnecting NBD proxy between a kernel device's NBD client (nbdfuse, or the kernel's
 * nbd-client) and the node plugin's engine: its own process, so that it outlives the plugin's
 * JVM, and the reason a plugin restart is a stall for the device rather than an I/O error. It
 * serves one export on a Unix socket (owner-only) and gives each client connection its own
 * connection to the engine; when that is lost it reconnects and sends again what was in flight
 * ({@link ProxiedConnection}). Requests are forwarded at the client's queue depth.
 *
 * <pre>java -XX:+UseSerialGC -Xmx64m -Xms4m -Xss512k -cp CLASSPATH dev.remap.csi.node.ReconnectingProxy
 *     --listen SOCK --engine ENGINE_SOCK --export NAME [--readonly]</pre>
 *
 * <p>At start it opens the export once to learn its size and flags (and fails at once, exit 1,
 * when it cannot: the attach then fails with the reason in the log); clients get those terms, and
 * every later engine connection must offer them again. CAN_MULTI_CONN is passed on as the engine
 * gives it: each client connection has its own engine connection, so the engine's promise (a
 * flush on one connection covers writes acknowledged on all) holds through the proxy.
 *
 * <p>It exits when its last client connection closes, once one has connected (the device's
 * detach ends it; a client is a connection that got through its handshake), when no client
 * connects within {@link #FIRST_CLIENT}, and on SIGTERM. It logs
 * to stderr, which the plugin points at a file: reconnects, and the most requests it has had in
 * flight to the engine at once (a new peak is logged, then the totals when each connection ends),
 * which is how an operator sees that the device's queue depth reaches the engine.
 *
 * <p>Locking: {@code this} guards the connection count; the in-flight gauge is atomic. Each
 * connection has its own locks ({@link ProxiedConnection}).
 */
public final class ReconnectingProxy {

  /**
   * Write payloads held (until answered, for resending) over all connections: with reads' buffers
   * this stays well inside the 64 MiB heap. A single larger write still goes, alone.
   */
  static final int MAX_HELD_PAYLOAD = 16 << 20;

  /** Without a client by then, nobody is going to use this proxy: the attach that started it failed. */
  static final Duration FIRST_CLIENT = Duration.ofMinutes(2);

  private final Path engine;
  private final String export;
  private final long engineSize;
  private final int engineFlags;
  private final ProxyHandshake.Terms terms;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();
  private final AtomicInteger ids = new AtomicInteger();
  private final java.util.concurrent.Semaphore heldPayload = new java.util.concurrent.Semaphore(MAX_HELD_PAYLOAD);
  private final Path socket;
  private int open; // guarded by this
  private boolean everConnected; // guarded by this
  private EngineLink spare; // guarded by this: the start's engine connection, for the first client

  private ReconnectingProxy(Path socket, Path engine, String export, EngineLink probe, boolean readOnly) {
    this.socket = socket;
    this.engine = engine;
    this.export = export;
    this.engineSize = probe.size();
    this.engineFlags = probe.flags();
    // No structured replies here, so DF (which only they can express) is never offered.
    int flags = (probe.flags() & ~TFLAG_SEND_DF) | TFLAG_HAS_FLAGS | (readOnly ? TFLAG_READ_ONLY : 0);
    this.terms = new ProxyHandshake.Terms(export, probe.size(), flags, probe.blockSizes());
    this.spare = probe;
  }

  public static void main(String[] args) throws Exception {
    Path listen = null;
    Path engine = null;
    String export = null;
    boolean readOnly = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--listen" -> listen = Path.of(args[++i]);
        case "--engine" -> engine = Path.of(args[++i]);
        case "--export" -> export = args[++i];
        case "--readonly" -> readOnly = true;
        default -> usage("unknown argument " + args[i]);
      }
    }
    if (listen == null || engine == null || export == null) {
      usage("--listen, --engine and --export are required");
    }
    exportName = export;
    EngineLink probe;
    try {
      probe = EngineLink.open(engine, export);
    } catch (IOException e) {
      log("cannot open export '" + export + "' at " + engine + ": " + e.getMessage());
      System.exit(1);
      return;
    }
    new ReconnectingProxy(listen, engine, export, probe, readOnly).run();
  }

  private static void usage(String problem) {
    System.err.println(problem + "\nusage: ReconnectingProxy --listen SOCK --engine ENGINE_SOCK --export NAME [--readonly]");
    System.exit(2);
  }

  private void run() throws IOException {
    // Bound under another name and renamed when it listens: binding creates the file before the
    // socket listens, and whoever waits for the file (the plugin) must not connect in between.
    Path bound = socket.resolveSibling(socket.getFileName() + "~");
    Files.deleteIfExists(bound);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(bound));
    Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
    Files.move(bound, socket, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    Runtime.getRuntime().addShutdownHook(new Thread(this::removeSocket, "proxy-shutdown"));
    log("serving export '" + export + "' (" + terms.size() + " bytes, flags 0x" + Integer.toHexString(terms.flags())
        + ") of " + engine + " on " + socket);
    Thread watchdog = new Thread(this::awaitFirstClient, "proxy-first-client");
    watchdog.setDaemon(true);
    watchdog.start();
    while (true) {
      SocketChannel client = server.accept();
      String peer = "connection " + ids.incrementAndGet();
      Thread thread = new Thread(() -> handle(client, peer), "proxy-" + peer.replace(' ', '-'));
      thread.setDaemon(true);
      thread.start();
    }
  }

  /**
   * Only a connection that reaches transmission counts as a client for the exit rule: a probe
   * (nbdinfo --list) or a client that fails its handshake must not end the device's proxy.
   */
  private void handle(SocketChannel client, String peer) {
    boolean transmit;
    try {
      transmit = ProxyHandshake.negotiate(client, terms, peer);
    } catch (IOException e) {
      log(peer + ": handshake ended: " + e.getMessage());
      transmit = false;
    }
    if (!transmit) {
      try {
        client.close();
      } catch (IOException e) {
        // Closing it either way.
      }
      return;
    }
    synchronized (this) {
      open++;
      everConnected = true;
    }
    new ProxiedConnection(this, client, peer, (terms.flags() & TFLAG_READ_ONLY) != 0).serve(engineLink(peer));
  }

  /** An engine connection for a new client: the start's, else a new one; null lets its first request reconnect. */
  private EngineLink engineLink(String peer) {
    synchronized (this) {
      if (spare != null) {
        EngineLink link = spare;
        spare = null;
        return link;
      }
    }
    try {
      EngineLink link = EngineLink.open(engine, export);
      if (EngineLink.compatible(engineSize, engineFlags, link)) {
        return link;
      }
      link.close();
      log(peer + ": the engine's export '" + export + "' has changed; its first request will keep trying");
    } catch (IOException e) {
      log(peer + ": engine not reachable (" + e.getMessage() + "); its first request will reconnect");
    }
    return null;
  }

  /** A connection is over; the last one ends the proxy (the device was detached). */
  void ended(ProxiedConnection connection) {
    int left;
    synchronized (this) {
      left = --open;
    }
    if (left == 0) {
      log("last client gone; at most " + peak.get() + " requests were in flight upstream at once; exiting");
      System.exit(0);
    }
  }

  /**
   * Counts requests in flight to the engine over all connections. A new peak is logged when it
   * reaches a power of two (a handful of lines per device); the exact peak is logged at the end.
   */
  void inFlight(int delta) {
    int now = inFlight.addAndGet(delta);
    int before = peak.getAndAccumulate(now, Math::max);
    if (now > before && Integer.bitCount(now) == 1) {
      log("requests in flight upstream: new peak " + now);
    }
  }

  /** Waits until a write payload of this size may be held (bounded memory, see MAX_HELD_PAYLOAD). */
  void holdPayload(long bytes) throws InterruptedException {
    if (bytes > 0) {
      heldPayload.acquire((int) Math.min(bytes, MAX_HELD_PAYLOAD));
    }
  }

  void releasePayload(long bytes) {
    if (bytes > 0) {
      heldPayload.release((int) Math.min(bytes, MAX_HELD_PAYLOAD));
    }
  }

  private void awaitFirstClient() {
    try {
      Thread.sleep(FIRST_CLIENT.toMillis());
    } catch (InterruptedException e) {
      return;
    }
    synchronized (this) {
      if (everConnected) {
        return;
      }
    }
    log("no client connected within " + FIRST_CLIENT.toSeconds() + " s; exiting");
    System.exit(1);
  }

  private void removeSocket() {
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      // Exiting anyway; the next proxy on this path replaces the file.
    }
  }

  Path engine() {
    return engine;
  }

  String export() {
    return export;
  }

  long engineSize() {
    return engineSize;
  }

  int engineFlags() {
    return engineFlags;
  }

  private static volatile String exportName = "?";

  static void log(String message) {
    System.err.println(Instant.now() + " remap-proxy[" + exportName + "]: " + message);
  }

  /**
   * The command that runs a proxy with this JVM's java and class path: the node plugin's own,
   * which in a pod are also the helper keeper's (the same image). One runs per staged volume, so
   * its memory counts: a small initial heap that grows only as needed (-Xms4m) and smaller thread
   * stacks took a proxy under a QD32 run from 72 to 57 MiB resident.
   */
  static List<String> command(Path listen, Path engine, String export, boolean readOnly) {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> command = new ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-Xmx64m", "-Xms4m", "-Xss512k",
        "-cp", System.getProperty("java.class.path"), ReconnectingProxy.class.getName(), "--listen", listen.toString(),
        "--engine", engine.toString(), "--export", export));
    if (readOnly) {
      command.add("--readonly");
    }
    return command;
  }

  /** Is this process a proxy (and not whatever reuses a recorded pid after a reboot)? */
  static boolean isProxy(ProcessHandle process) {
    return process.info().arguments()
        .map(a -> List.of(a).contains(ReconnectingProxy.class.getName())).orElse(false);
  }
}
