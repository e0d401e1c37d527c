package dev.remap.csi.node;

import static dev.remap.csi.node.ProxyWire.*;
import static dev.remap.engine.nbd.NbdProtocol.*;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * One connection of the {@link ReconnectingProxy} to the engine's NBD server, negotiated and
 * ready for requests: fixed newstyle, NBD_OPT_GO with the export's name, and no structured
 * replies, so that every reply is a simple one whose length the proxy knows from the request
 * alone (which is what lets it match replies to requests without parsing chunks).
 *
 * @param blockSizes the engine's NBD_INFO_BLOCK_SIZE item (minimum, preferred, maximum) as its
 *     12 bytes after the type, or null when it sent none; handed to clients as it came
 */
record EngineLink(SocketChannel channel, long size, int flags, ByteBuffer blockSizes) {

  /** The terms a client was given are still valid on a link with these terms. */
  static boolean compatible(long size, int flags, EngineLink link) {
    // A newer engine may offer more; the client only uses what it was offered when it connected.
    return link.size() == size && (link.flags() & TFLAG_READ_ONLY) == (flags & TFLAG_READ_ONLY)
        && (link.flags() & flags & TFLAG_COMMANDS) == (flags & TFLAG_COMMANDS);
  }

  /** Connects to the engine's socket and opens the export; an IOException says why it could not. */
  static EngineLink open(java.nio.file.Path engine, String export) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(engine));
      return negotiate(channel, export);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private static EngineLink negotiate(SocketChannel channel, String export) throws IOException {
    ByteBuffer greeting = read(channel, 18);
    if (greeting.getLong() != NBDMAGIC || greeting.getLong() != IHAVEOPT) {
      throw new IOException("the engine's socket does not speak newstyle NBD");
    }
    int serverFlags = Short.toUnsignedInt(greeting.getShort());
    if ((serverFlags & FLAG_FIXED_NEWSTYLE) == 0) {
      throw new IOException("the engine does not offer fixed newstyle negotiation");
    }
    int clientFlags = FLAG_FIXED_NEWSTYLE | (serverFlags & FLAG_NO_ZEROES);
    byte[] name = export.getBytes(StandardCharsets.UTF_8);
    ByteBuffer go = ByteBuffer.allocate(4 + 16 + 4 + name.length + 2 + 2).putInt(clientFlags)
        .putLong(IHAVEOPT).putInt(OPT_GO).putInt(4 + name.length + 2 + 2)
        .putInt(name.length).put(name).putShort((short) 1).putShort((short) INFO_BLOCK_SIZE).flip();
    writeFully(channel, go);
    long size = -1;
    int flags = 0;
    ByteBuffer blockSizes = null;
    while (true) {
      ByteBuffer header = read(channel, 20);
      long magic = header.getLong();
      int option = header.getInt();
      int type = header.getInt();
      int length = header.getInt();
      if (magic != OPTION_REPLY_MAGIC || option != OPT_GO || length < 0 || length > MAX_OPTION_DATA) {
        throw new IOException("the engine's answer to NBD_OPT_GO is malformed");
      }
      ByteBuffer data = read(channel, length);
      if (type == REP_ACK) {
        break;
      }
      if (type < 0) { // the error replies have the high bit set
        throw new IOException("the engine refused export '" + export + "': " + utf8(data, length)
            + " (reply 0x" + Integer.toHexString(type) + ")");
      }
      if (type == REP_INFO && length >= 2) {
        int info = Short.toUnsignedInt(data.getShort());
        if (info == INFO_EXPORT && length == 12) {
          size = data.getLong();
          flags = Short.toUnsignedInt(data.getShort());
        } else if (info == INFO_BLOCK_SIZE && length == 14) {
          blockSizes = data.slice();
        }
      }
    }
    if (size < 0) {
      throw new IOException("the engine opened export '" + export + "' without telling its size");
    }
    return new EngineLink(channel, size, flags, blockSizes);
  }

  void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // Nothing to do: the link is being dropped either way.
    }
  }
}
