package dev.remap.csi.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Where a device's proxy listens: a path a Unix socket can have, whatever the volume's name. */
class ProxyProcessTest {

  @Test
  void aVolumeWithTheLongestNameGetsASocketPathThatFits() {
    Path devices = Path.of("/var/lib/remap/csi-state/devices");
    Path longest = devices.resolve("v".repeat(128));
    Path other = devices.resolve("v".repeat(127) + "w");
    Path socket = ProxyProcess.socketFor(longest);
    assertThat(socket.getParent()).isEqualTo(devices);
    assertThat(socket.toString().length() + 1).as("the socket path and the proxy's temporary ~").isLessThanOrEqualTo(ProxyProcess.MAX_SOCKET_PATH);
    assertThat(ProxyProcess.socketFor(other)).as("another volume's socket").isNotEqualTo(socket);
    assertThat(ProxyProcess.socketFor(longest)).as("the same volume's socket, asked again").isEqualTo(socket);
  }

  @Test
  void aStateFolderTooDeepForASocketIsRefusedNamingThePath() {
    Path deep = Path.of("/" + "d".repeat(120), "devices", "volume");
    Path socket = ProxyProcess.socketFor(deep);
    assertThatThrownBy(() -> ProxyProcess.start("volume", Path.of("/nonexistent/nbd.sock"), socket,
        Path.of("/nonexistent/pid"), Path.of("/nonexistent/log"), false, HelperLauncher.LOCAL))
        .isInstanceOf(IOException.class).hasMessageContaining(socket.toString()).hasMessageContaining("--state-dir");
  }
}
