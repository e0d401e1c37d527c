package dev.remap.csi.server;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server on a Unix socket. Netty's epoll transport is what serves Unix sockets (the NIO
 * transport cannot); it comes with grpc-netty-shaded, native library included. A socket file
 * left by a previous process that died is removed before binding: the kubelet restarts plugins
 * and expects the same path.
 */
public final class CsiServer implements AutoCloseable {

  private final Path socket;
  private final Server server;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;

  private CsiServer(Path socket, Server server, EventLoopGroup boss, EventLoopGroup workers) {
    this.socket = socket;
    this.server = server;
    this.boss = boss;
    this.workers = workers;
  }

  /** Binds the socket and starts serving the services, every call through the secret-stripping logger. */
  public static CsiServer start(Path socket, List<BindableService> services) throws IOException {
    if (!Epoll.isAvailable()) {
      throw new IOException("cannot serve a Unix socket: netty's epoll transport is unavailable ("
          + Epoll.unavailabilityCause() + ")");
    }
    NettyLogs.quiet();
    Files.createDirectories(socket.toAbsolutePath().getParent());
    Files.deleteIfExists(socket);
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers);
    SecretStrippingLogger logger = new SecretStrippingLogger();
    for (BindableService service : services) {
      builder.addService(ServerInterceptors.intercept(service, logger));
    }
    try {
      Server server = builder.build().start();
      return new CsiServer(socket, server, boss, workers);
    } catch (IOException | RuntimeException e) {
      boss.shutdownGracefully();
      workers.shutdownGracefully();
      throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
    }
  }

  public Path socket() {
    return socket;
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() throws IOException {
    server.shutdown();
    try {
      if (!server.awaitTermination(10, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      Files.deleteIfExists(socket);
    }
  }
}
