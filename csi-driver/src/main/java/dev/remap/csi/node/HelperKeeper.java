package dev.remap.csi.node;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node's helper keeper (`remap helper-keeper`): a small, long-lived process that starts the
 * helpers of kernel devices (nbdfuse, the devices' reconnecting proxies) for the node plugin, as its own
 * children, on request over a Unix socket (see {@link KeeperWire}). It exists so that the node
 * plugin's pod can be deleted, restarted or upgraded while VMs use their disks: the helpers live
 * here, the proxies reconnect to the next plugin's engine, and the kernel devices see a stall, not an
 * error. It holds no state: what it started is known by pid to the plugin's staged records.
 * Restarting the keeper itself ends its helpers (they are its children in its container), which
 * is why its DaemonSet updates only on delete (docs/CSI.md).
 *
 * <p>The socket is the only way in and is made owner-only (0600): whoever can connect can run
 * commands as the keeper's user. One thread per connection; requests are independent.
 */
public final class HelperKeeper implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(HelperKeeper.class.getName());

  private final Path socket;
  private final ServerSocketChannel server;
  private final ExecutorService connections;
  private final Thread acceptor;

  private HelperKeeper(Path socket, ServerSocketChannel server) {
    this.socket = socket;
    this.server = server;
    this.connections = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "keeper-connection");
      t.setDaemon(true);
      return t;
    });
    this.acceptor = new Thread(this::acceptLoop, "keeper-accept");
  }

  /** Listens on socket (a stale file there is replaced) until closed. */
  public static HelperKeeper start(Path socket) throws IOException {
    Files.createDirectories(socket.toAbsolutePath().getParent());
    Files.deleteIfExists(socket);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(socket));
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      server.close();
      throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
    }
    HelperKeeper keeper = new HelperKeeper(socket, server);
    keeper.acceptor.start();
    LOG.info(() -> "helper keeper listening on " + socket);
    return keeper;
  }

  public Path socket() {
    return socket;
  }

  public void awaitTermination() throws InterruptedException {
    acceptor.join();
  }

  private void acceptLoop() {
    while (server.isOpen()) {
      try {
        SocketChannel channel = server.accept();
        connections.execute(() -> serve(channel));
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        LOG.log(Level.WARNING, "helper keeper: accept failed", e);
      }
    }
  }

  private void serve(SocketChannel channel) {
    try (channel) {
      DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
      DataOutputStream out = new DataOutputStream(Channels.newOutputStream(channel));
      KeeperWire.Answer answer;
      try {
        answer = answer(KeeperWire.readRequest(in));
      } catch (IOException | RuntimeException e) {
        // A bad request or a command that cannot start: the caller gets the reason, the keeper goes on.
        answer = new KeeperWire.Answer(false, 0, String.valueOf(e.getMessage()));
      }
      KeeperWire.write(out, answer);
    } catch (IOException e) {
      LOG.log(Level.FINE, "helper keeper: connection ended early", e);
    }
  }

  private static KeeperWire.Answer answer(KeeperWire.Request request) throws IOException {
    return switch (request.op()) {
      case PING -> new KeeperWire.Answer(true, ProcessHandle.current().pid(), "ok");
      case START -> {
        long pid = HelperLauncher.LOCAL.start(request.command(), Path.of(request.log()));
        LOG.info(() -> "started " + request.command().get(0) + " (pid " + pid + ")");
        yield new KeeperWire.Answer(true, pid, "");
      }
      case RUN -> {
        Commands.Result result = HelperLauncher.LOCAL.run(Math.max(1, request.timeoutSeconds()), request.command());
        yield new KeeperWire.Answer(true, result.exitCode(), result.output());
      }
    };
  }

  /** Stops listening; the helpers it started keep running until this process ends. */
  @Override
  public void close() throws IOException {
    server.close();
    connections.shutdownNow();
    Files.deleteIfExists(socket);
  }
}
