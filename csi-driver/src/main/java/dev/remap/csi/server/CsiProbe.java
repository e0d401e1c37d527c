package dev.remap.csi.server;

import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.IdentityGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Asks the plugin's own Identity.Probe over its CSI socket, as the livenessprobe sidecar did:
 * a real round trip through the socket the kubelet and the sidecars use, over a new connection
 * each time, so that a socket file removed or a server that stopped answering is seen (a
 * connection kept open would still work in both cases). Answers within {@link #DEADLINE_SECONDS}.
 */
public final class CsiProbe implements AutoCloseable {

  static final long DEADLINE_SECONDS = 2;

  private final Path socket;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());

  public CsiProbe(Path socket) {
    NettyLogs.quiet();
    this.socket = socket;
  }

  /** Empty when the plugin answered ready; else why not, in one line. */
  public Optional<String> problem() {
    ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(group)
        .usePlaintext()
        .build();
    try {
      Csi.ProbeResponse response = IdentityGrpc.newBlockingStub(channel)
          .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .probe(Csi.ProbeRequest.getDefaultInstance());
      if (response.hasReady() && !response.getReady().getValue()) {
        return Optional.of("the CSI Probe over " + socket + " answered not ready");
      }
      return Optional.empty();
    } catch (StatusRuntimeException e) {
      return Optional.of("the CSI Probe over " + socket + " failed: " + e.getStatus().getCode()
          + (e.getStatus().getDescription() == null ? "" : ": " + e.getStatus().getDescription()));
    } finally {
      channel.shutdownNow();
    }
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
