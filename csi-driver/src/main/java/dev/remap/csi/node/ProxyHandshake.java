package dev.remap.csi.node;

import static dev.remap.csi.node.ProxyWire.*;
import static dev.remap.engine.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The option phase of a client of the {@link ReconnectingProxy} (nbdfuse, nbd-client), as a
 * fixed newstyle server with one export. The terms offered are the engine's as the proxy found
 * them at start (a client's handshake never waits for the engine, so a device can attach while
 * the engine restarts). Simple replies only: structured replies, TLS and meta contexts are
 * answered NBD_REP_ERR_UNSUP, which every client takes as "not offered".
 *
 * <p>The export answers to its name and to "" (nbdfuse asks for the default export). Used by one
 * connection's thread; no state is shared.
 */
final class ProxyHandshake {

  /** The export's terms as clients are given them. */
  record Terms(String export, long size, int flags, ByteBuffer blockSizes) {}

  private ProxyHandshake() {}

  /**
   * Runs the option phase; true when the client chose the export and transmission starts,
   * false when it aborted or the connection must end (an error was sent where the protocol has
   * a way to say it).
   */
  static boolean negotiate(SocketChannel client, Terms terms, String peer) throws IOException {
    writeFully(client, ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(IHAVEOPT)
        .putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip());
    int clientFlags = read(client, 4).getInt();
    if ((clientFlags & ~(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)) != 0 || (clientFlags & FLAG_FIXED_NEWSTYLE) == 0) {
      ReconnectingProxy.log(peer + ": client flags 0x" + Integer.toHexString(clientFlags)
          + " are not a fixed newstyle client's; closing");
      return false;
    }
    boolean noZeroes = (clientFlags & FLAG_NO_ZEROES) != 0;
    while (true) {
      ByteBuffer header = read(client, 16);
      long magic = header.getLong();
      int option = header.getInt();
      long length = Integer.toUnsignedLong(header.getInt());
      if (magic != IHAVEOPT) {
        // Out of step: nothing after this can be parsed. Say so once, then hang up.
        writeFully(client, optionError(option, REP_ERR_INVALID, "option magic 0x" + Long.toHexString(magic)
            + " is not IHAVEOPT; closing"));
        ReconnectingProxy.log(peer + ": bad option magic; closing");
        return false;
      }
      if (length > MAX_OPTION_DATA) {
        if (option != OPT_EXPORT_NAME) {
          writeFully(client, optionError(option, REP_ERR_TOO_BIG, "option data of " + length + " bytes is too big"));
        }
        ReconnectingProxy.log(peer + ": option " + option + " with " + length + " bytes of data; closing");
        return false;
      }
      ByteBuffer data = read(client, (int) length);
      switch (option) {
        case OPT_EXPORT_NAME -> {
          if (!known(terms, utf8(data, data.remaining()))) {
            return false; // the protocol's only refusal of EXPORT_NAME is to hang up
          }
          ByteBuffer reply = ByteBuffer.allocate(noZeroes ? 10 : 134).putLong(terms.size())
              .putShort((short) terms.flags());
          writeFully(client, reply.position(reply.capacity()).flip());
          return true;
        }
        case OPT_INFO, OPT_GO -> {
          String name = exportName(data);
          if (name == null) {
            writeFully(client, optionError(option, REP_ERR_INVALID, "malformed " + (option == OPT_GO ? "GO" : "INFO")
                + " option data"));
          } else if (!known(terms, name)) {
            writeFully(client, optionError(option, REP_ERR_UNKNOWN, "there is no export '" + name
                + "' here; this proxy serves '" + terms.export() + "'"));
          } else {
            if (terms.blockSizes() != null) {
              ByteBuffer item = ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE)
                  .put(terms.blockSizes().duplicate()).flip();
              writeFully(client, optionReply(option, REP_INFO, bytes(item)));
            }
            ByteBuffer export = ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(terms.size())
                .putShort((short) terms.flags()).flip();
            writeFully(client, optionReply(option, REP_INFO, bytes(export)), optionReply(option, REP_ACK, new byte[0]));
            if (option == OPT_GO) {
              return true;
            }
          }
        }
        case OPT_ABORT -> {
          writeFully(client, optionReply(option, REP_ACK, new byte[0]));
          return false;
        }
        case OPT_LIST -> {
          byte[] name = terms.export().getBytes(StandardCharsets.UTF_8);
          writeFully(client, optionReply(option, REP_SERVER,
              bytes(ByteBuffer.allocate(4 + name.length).putInt(name.length).put(name).flip())),
              optionReply(option, REP_ACK, new byte[0]));
        }
        default -> writeFully(client, optionError(option, REP_ERR_UNSUP, "option " + Integer.toUnsignedString(option)
            + " is not supported by the reconnecting proxy (simple replies only)"));
      }
    }
  }

  private static boolean known(Terms terms, String name) {
    return name.isEmpty() || name.equals(terms.export());
  }

  /** The export name of NBD_OPT_INFO / NBD_OPT_GO data, or null when the data is malformed. */
  private static String exportName(ByteBuffer data) {
    if (data.remaining() < 6) {
      return null;
    }
    long length = Integer.toUnsignedLong(data.getInt());
    if (length > data.remaining() - 2) {
      return null;
    }
    String name = utf8(data, (int) length);
    int count = Short.toUnsignedInt(data.getShort());
    // The information items asked for do not change the answer: size and flags always go out,
    // and block sizes too (as the engine does: a client that ignores them loses nothing).
    return data.remaining() == count * 2 ? name : null;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] out = new byte[buffer.remaining()];
    buffer.get(out);
    return out;
  }
}
