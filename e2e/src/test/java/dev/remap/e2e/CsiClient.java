package dev.remap.e2e;

import dev.remap.csi.spec.ControllerGrpc;
import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.IdentityGrpc;
import dev.remap.csi.spec.NodeGrpc;
import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.RemapPaths;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real `./remap csi` process and a gRPC client on its Unix socket, for the process-level CSI
 * tests. Closing it closes the channel and sends the driver SIGTERM.
 */
final class CsiClient implements AutoCloseable {

  final Path socket;
  final BackgroundProcess driver;
  final IdentityGrpc.IdentityBlockingStub identity;
  final ControllerGrpc.ControllerBlockingStub controller;
  final NodeGrpc.NodeBlockingStub node;
  private final ManagedChannel channel;
  private final EventLoopGroup group;

  private CsiClient(Path socket, BackgroundProcess driver) {
    this.socket = socket;
    this.driver = driver;
    this.group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(group)
        .usePlaintext()
        .build();
    this.identity = IdentityGrpc.newBlockingStub(channel);
    this.controller = ControllerGrpc.newBlockingStub(channel);
    this.node = NodeGrpc.newBlockingStub(channel);
  }

  /** Starts `./remap csi` with everything under dir and waits for its socket. */
  static CsiClient start(Path dir, String mode, String store) {
    return start(dir, mode, store, "node-a", Map.of());
  }

  /** Starts `./remap csi` as node nodeId with env added (e.g. S3 credentials) and extra flags. */
  static CsiClient start(Path dir, String mode, String store, String nodeId, Map<String, String> env,
      String... extraFlags) {
    Path socket = dir.resolve("csi.sock");
    try {
      // A killed driver leaves its socket file: wait for the new driver's, not the old one.
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> command = new ArrayList<>(List.of(RemapPaths.root().resolve("remap").toString(), "csi",
        "--mode", mode, "--endpoint", "unix://" + socket, "--node-id", nodeId, "--store", store,
        "--journal", dir.resolve("journal").toString(), "--state-dir", dir.resolve("state").toString()));
    command.addAll(List.of(extraFlags));
    BackgroundProcess driver = BackgroundProcess.start(env, command.toArray(String[]::new));
    // Slower under software emulation (the kernel-client scenario runs in the test guest).
    driver.awaitSocket(socket, Duration.ofSeconds(Long.getLong("remap.csi.startSeconds", 60)));
    return new CsiClient(socket, driver);
  }

  static CsiClient start(Path dir) {
    return start(dir, "all", "file://" + dir.resolve("store"));
  }

  static Csi.VolumeCapability block(Csi.VolumeCapability.AccessMode.Mode mode) {
    return Csi.VolumeCapability.newBuilder()
        .setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance())
        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode))
        .build();
  }

  static Csi.VolumeCapability mount(String fsType, Csi.VolumeCapability.AccessMode.Mode mode) {
    return Csi.VolumeCapability.newBuilder()
        .setMount(Csi.VolumeCapability.MountVolume.newBuilder().setFsType(fsType))
        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode))
        .build();
  }

  Csi.Volume create(String name, long bytes, Csi.VolumeCapability capability) {
    return controller.createVolume(Csi.CreateVolumeRequest.newBuilder().setName(name)
        .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(bytes))
        .addVolumeCapabilities(capability).build()).getVolume();
  }

  /** NodeStageVolume then NodePublishVolume, with the folders a kubelet would have made. */
  void stageAndPublish(String volume, Path staging, Path target, Csi.VolumeCapability capability) throws IOException {
    stageAndPublish(volume, staging, target, capability, Map.of());
  }

  /** The same with a volume context (what CreateVolume returned, e.g. the class's cache sizes). */
  void stageAndPublish(String volume, Path staging, Path target, Csi.VolumeCapability capability,
      Map<String, String> context) throws IOException {
    Files.createDirectories(staging);
    Files.createDirectories(target.getParent());
    node.nodeStageVolume(Csi.NodeStageVolumeRequest.newBuilder().setVolumeId(volume)
        .setStagingTargetPath(staging.toString()).setVolumeCapability(capability).putAllVolumeContext(context)
        .build());
    node.nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(volume)
        .setStagingTargetPath(staging.toString()).setTargetPath(target.toString())
        .setVolumeCapability(capability).build());
  }

  void unpublishAndUnstage(String volume, Path staging, Path target) {
    node.nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volume)
        .setTargetPath(target.toString()).build());
    node.nodeUnstageVolume(Csi.NodeUnstageVolumeRequest.newBuilder().setVolumeId(volume)
        .setStagingTargetPath(staging.toString()).build());
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    driver.close();
  }
}
