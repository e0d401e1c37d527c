package dev.remap.csi.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real keeper on a real socket, driven by the client the node plugin uses: what it starts is
 * its own child and keeps running after the client is gone; bad requests get a reason and the
 * keeper goes on serving.
 */
class HelperKeeperTest {

  @TempDir Path tmp;

  @Test
  void startsHelpersAsItsOwnChildrenRunsCommandsAndAnswersPings() throws Exception {
    try (HelperKeeper keeper = HelperKeeper.start(tmp.resolve("keeper.sock"))) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keeper.socket()))).isEqualTo("rw-------");
      KeeperClient client = new KeeperClient(keeper.socket());
      assertThat(client.ping()).isEqualTo(ProcessHandle.current().pid());

      long pid = client.start(List.of("sh", "-c", "echo started; exec sleep 60"), tmp.resolve("helper.log"));
      ProcessHandle helper = ProcessHandle.of(pid).orElseThrow();
      try {
        assertThat(helper.isAlive()).isTrue();
        // The keeper's child (here the keeper runs in this JVM), not the caller's.
        assertThat(helper.parent().map(ProcessHandle::pid)).contains(ProcessHandle.current().pid());
        awaitContent(tmp.resolve("helper.log"), "started");
      } finally {
        helper.destroy();
      }

      Commands.Result ran = client.run(30, List.of("sh", "-c", "echo out; echo err >&2; exit 3"));
      assertThat(ran.exitCode()).isEqualTo(3);
      assertThat(ran.output()).contains("out", "err");
    }
  }

  @Test
  void aBadRequestGetsItsReasonAndTheKeeperGoesOn() throws Exception {
    try (HelperKeeper keeper = HelperKeeper.start(tmp.resolve("keeper.sock"))) {
      try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        channel.connect(UnixDomainSocketAddress.of(keeper.socket()));
        channel.write(ByteBuffer.wrap(new byte[] {0, 3, 'G', 'E', 'T', 9, 9}));
        KeeperWire.Answer answer = KeeperWire.readAnswer(new DataInputStream(Channels.newInputStream(channel)));
        assertThat(answer.ok()).isFalse();
        assertThat(answer.text()).contains("not a helper keeper request");
      }
      KeeperClient client = new KeeperClient(keeper.socket());
      assertThatThrownBy(() -> client.start(List.of("/no/such/program"), tmp.resolve("x.log")))
          .hasMessageContaining("could not start").hasMessageContaining("/no/such/program");
      assertThat(client.ping()).isPositive();
    }
  }

  @Test
  void aKeeperThatIsNotThereIsNamedInTheError() {
    KeeperClient client = new KeeperClient(tmp.resolve("absent.sock"));
    assertThatThrownBy(client::ping).hasMessageContaining("absent.sock").hasMessageContaining("remap-keeper");
  }

  @Test
  void closingRemovesTheSocketAndAStaleOneIsReplaced() throws Exception {
    Path socket = tmp.resolve("keeper.sock");
    Files.writeString(socket, "stale");
    HelperKeeper keeper = HelperKeeper.start(socket);
    assertThat(new KeeperClient(socket).ping()).isPositive();
    keeper.close();
    assertThat(socket).doesNotExist();
  }

  private static void awaitContent(Path file, String text) throws Exception {
    for (int i = 0; i < 200; i++) {
      if (Files.exists(file) && Files.readString(file).contains(text)) {
        return;
      }
      Thread.sleep(25);
    }
    assertThat(Files.exists(file) ? Files.readString(file) : "(no file)").contains(text);
  }
}
