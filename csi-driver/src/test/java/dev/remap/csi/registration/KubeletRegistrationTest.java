package dev.remap.csi.registration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.csi.CsiDriver;
import dev.remap.csi.DriverConfig;
import dev.remap.csi.http.Http;
import dev.remap.csi.http.HttpAddress;
import dev.remap.csi.registration.spec.PluginRegistration.InfoRequest;
import dev.remap.csi.registration.spec.PluginRegistration.PluginInfo;
import dev.remap.csi.registration.spec.PluginRegistration.RegistrationStatus;
import dev.remap.csi.registration.spec.RegistrationGrpc;
import dev.remap.engine.volume.VolumeOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node plugin registers itself as the kubelet's plugin watcher expects: a real node plugin
 * (file store, its NBD server) with a registration folder, and a gRPC client on the registration
 * socket doing what the kubelet does (GetInfo, then NotifyRegistrationStatus).
 */
class KubeletRegistrationTest {

  private static final Path KUBELET_ENDPOINT = Path.of("/var/lib/kubelet/plugins/csi.remap.dev/csi.sock");

  @TempDir Path tmp;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private ManagedChannel channel;

  @AfterEach
  void closeClient() {
    if (channel != null) {
      channel.shutdownNow();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  private CsiDriver startNode(Path registrationDir, Path kubeletEndpoint) throws Exception {
    Files.createDirectories(tmp.resolve("store"));
    return CsiDriver.start(new DriverConfig(DriverConfig.Mode.NODE, tmp.resolve("csi/csi.sock"), "node-a",
        "file://" + tmp.resolve("store"), tmp.resolve("journal"), tmp.resolve("state"), null, Duration.ZERO,
        Duration.ZERO, VolumeOptions.Cleaning.defaults(), registrationDir, kubeletEndpoint,
        HttpAddress.parse("127.0.0.1:0", false).orElseThrow(), null), "test");
  }

  private RegistrationGrpc.RegistrationBlockingStub kubelet(Path socket) {
    channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
    return RegistrationGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @Test
  void theKubeletLearnsTheDriverAndItsVerdictShowsInHealthAndMetrics() throws Exception {
    Path registry = Files.createDirectories(tmp.resolve("plugins_registry"));
    Path socket = registry.resolve("csi.remap.dev-reg.sock");
    // A socket file left by a plugin that was killed: replaced at start.
    try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      stale.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(socket).exists();

    CsiDriver driver = startNode(registry, KUBELET_ENDPOINT);
    try {
      InetSocketAddress http = driver.httpAddress().orElseThrow();
      PluginInfo info = kubelet(socket).getInfo(InfoRequest.getDefaultInstance());
      assertThat(info.getType()).isEqualTo("CSIPlugin");
      assertThat(info.getName()).isEqualTo("csi.remap.dev");
      assertThat(info.getEndpoint()).isEqualTo(KUBELET_ENDPOINT.toString());
      assertThat(info.getSupportedVersionsList()).containsExactly("1.0.0");
      assertThat(Http.get(http, "/metrics").sample("remap_kubelet_registered")).isEqualTo(0);
      assertThat(Http.get(http, "/metrics").sample("remap_staged_volumes")).isEqualTo(0);

      kubelet(socket).notifyRegistrationStatus(RegistrationStatus.newBuilder().setPluginRegistered(true).build());
      assertThat(driver.registration().orElseThrow().state()).isEqualTo(KubeletRegistration.State.REGISTERED);
      assertThat(Http.get(http, "/healthz")).isEqualTo(new Http.Answer(200, "ok\n"));
      assertThat(Http.get(http, "/metrics").sample("remap_kubelet_registered")).isEqualTo(1);

      kubelet(socket).notifyRegistrationStatus(RegistrationStatus.newBuilder().setPluginRegistered(false)
          .setError("plugin csi.remap.dev: version 1.0.0 is not supported").build());
      Http.Answer health = Http.get(http, "/healthz");
      assertThat(health.status()).isEqualTo(500);
      assertThat(health.body()).isEqualTo("the kubelet refused to register the plugin: plugin csi.remap.dev: "
          + "version 1.0.0 is not supported\n");
      assertThat(Http.get(http, "/metrics").sample("remap_kubelet_registered")).isEqualTo(-1);
    } finally {
      driver.close();
    }
    assertThat(socket).doesNotExist();
    assertThat(tmp.resolve("csi/csi.sock")).doesNotExist();
  }

  @Test
  void theKubeletIsToldTheEndpointSocketByDefault() throws Exception {
    Path registry = Files.createDirectories(tmp.resolve("plugins_registry"));
    try (CsiDriver driver = startNode(registry, null)) {
      PluginInfo info = kubelet(registry.resolve("csi.remap.dev-reg.sock")).getInfo(InfoRequest.getDefaultInstance());
      assertThat(info.getEndpoint()).isEqualTo(tmp.resolve("csi/csi.sock").toString());
    }
  }

  @Test
  void aMissingRegistrationFolderOrAControllerRegistrationIsRefusedNamingTheFlag() {
    assertThatThrownBy(() -> startNode(tmp.resolve("no-such-dir"), null))
        .hasMessageContaining("--kubelet-registration-dir");
    assertThat(tmp.resolve("csi/csi.sock")).doesNotExist();
    assertThatThrownBy(() -> new DriverConfig(DriverConfig.Mode.CONTROLLER, tmp.resolve("csi.sock"), "n1",
        "file:///x", tmp, tmp, null, Duration.ZERO, Duration.ZERO, VolumeOptions.Cleaning.defaults(), tmp, null, null,
        null))
        .hasMessageContaining("--kubelet-registration-dir").hasMessageContaining("--mode node");
  }
}
