package dev.remap.csi.node;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;

/** Helpers started by the node's {@link HelperKeeper}, reached on its Unix socket. */
public final class KeeperClient implements HelperLauncher {

  private final Path socket;

  public KeeperClient(Path socket) {
    this.socket = socket;
  }

  @Override
  public long start(List<String> command, Path log) throws IOException {
    return call(new KeeperWire.Request(KeeperWire.Op.START, 0, log.toString(), command)).value();
  }

  @Override
  public Commands.Result run(int timeoutSeconds, List<String> command) throws IOException {
    KeeperWire.Answer answer = call(new KeeperWire.Request(KeeperWire.Op.RUN, timeoutSeconds, "", command));
    return new Commands.Result((int) answer.value(), answer.text());
  }

  /** Whether the keeper answers: the pid it runs as. */
  public long ping() throws IOException {
    return call(new KeeperWire.Request(KeeperWire.Op.PING, 0, "", List.of())).value();
  }

  @Override
  public String describe() {
    return "the helper keeper on " + socket;
  }

  private KeeperWire.Answer call(KeeperWire.Request request) throws IOException {
    KeeperWire.Answer answer;
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      KeeperWire.write(new DataOutputStream(Channels.newOutputStream(channel)), request);
      answer = KeeperWire.readAnswer(new DataInputStream(Channels.newInputStream(channel)));
    } catch (IOException e) {
      throw new IOException("the helper keeper on " + socket + " does not answer (" + e.getMessage()
          + "): is this node's remap-keeper pod running?", e);
    }
    if (!answer.ok()) {
      throw new IOException("the helper keeper on " + socket + " could not " + request.op().name().toLowerCase(
          java.util.Locale.ROOT) + " '" + String.join(" ", request.command()) + "': " + answer.text());
    }
    return answer;
  }
}
