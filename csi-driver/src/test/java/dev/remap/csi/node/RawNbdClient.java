package dev.remap.csi.node;

import static dev.remap.csi.node.ProxyWire.*;
import static dev.remap.engine.nbd.NbdProtocol.*;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A hand-driven NBD client for tests: the exact bytes of each option and request, and what came back. */
final class RawNbdClient implements AutoCloseable {

  private final SocketChannel channel;
  private boolean transmitting;
  private long cookie;

  private RawNbdClient(SocketChannel channel) {
    this.channel = channel;
  }

  /** Connects and reads the greeting; client flags are sent (fixed newstyle, no zeroes). */
  static RawNbdClient connect(Path socket) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    channel.connect(UnixDomainSocketAddress.of(socket));
    ByteBuffer greeting = ProxyWire.read(channel, 18);
    if (greeting.getLong() != NBDMAGIC || greeting.getLong() != IHAVEOPT) {
      throw new IOException("not an NBD server");
    }
    writeFully(channel, ByteBuffer.allocate(4).putInt(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES).flip());
    return new RawNbdClient(channel);
  }

  private void sendOption(int option, byte[] data) throws IOException {
    writeFully(channel, ByteBuffer.allocate(16 + data.length).putLong(IHAVEOPT).putInt(option).putInt(data.length)
        .put(data).flip());
  }

  /** Sends an option and returns the type of its last reply (ACK or an error). */
  int option(int option, byte[] data) throws IOException {
    sendOption(option, data);
    return lastReply();
  }

  private int lastReply() throws IOException {
    while (true) {
      ByteBuffer header = ProxyWire.read(channel, 20);
      header.getLong();
      header.getInt();
      int type = header.getInt();
      ProxyWire.read(channel, header.getInt());
      if (type == REP_ACK || type < 0) {
        return type;
      }
    }
  }

  private static byte[] goData(String export) {
    byte[] name = export.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + name.length + 2).putInt(name.length).put(name).putShort((short) 0).array();
  }

  /** NBD_OPT_GO; the reply type. */
  int goReply(String export) throws IOException {
    return option(OPT_GO, goData(export));
  }

  /** NBD_OPT_GO that must succeed; returns the export's size. */
  long go(String export) throws IOException {
    sendOption(OPT_GO, goData(export));
    long size = -1;
    while (true) {
      ByteBuffer header = ProxyWire.read(channel, 20);
      header.getLong();
      header.getInt();
      int type = header.getInt();
      ByteBuffer data = ProxyWire.read(channel, header.getInt());
      if (type == REP_INFO && data.getShort() == INFO_EXPORT) {
        size = data.getLong();
      } else if (type == REP_ACK) {
        transmitting = true;
        return size;
      } else if (type < 0) {
        throw new IOException("GO refused: 0x" + Integer.toHexString(type));
      }
    }
  }

  /** Sixteen bytes that are not an option header; the reply type the server answers with. */
  int garbage() throws IOException {
    writeFully(channel, ByteBuffer.wrap("this is no NBD!!".getBytes(StandardCharsets.US_ASCII)));
    return lastReply();
  }

  boolean closedByPeer() throws IOException {
    return channel.read(ByteBuffer.allocate(1)) < 0;
  }

  private int request(int type, long offset, int length, byte[] payload) throws IOException {
    long mine = ++cookie;
    ByteBuffer header = ByteBuffer.allocate(REQUEST_HEADER).putInt(REQUEST_MAGIC).putShort((short) 0)
        .putShort((short) type).putLong(mine).putLong(offset).putInt(length).flip();
    writeFully(channel, header, ByteBuffer.wrap(payload == null ? new byte[0] : payload));
    ByteBuffer reply = ProxyWire.read(channel, SIMPLE_REPLY_HEADER);
    if (reply.getInt() != SIMPLE_REPLY_MAGIC) {
      throw new IOException("not a simple reply");
    }
    int error = reply.getInt();
    if (reply.getLong() != mine) {
      throw new IOException("a reply to another request");
    }
    return error;
  }

  int write(long offset, byte[] data) throws IOException {
    return request(CMD_WRITE, offset, data.length, data);
  }

  byte[] read(long offset, int length) throws IOException {
    int error = request(CMD_READ, offset, length, null);
    if (error != 0) {
      throw new IOException("read failed: error " + error);
    }
    byte[] out = new byte[length];
    ProxyWire.read(channel, length).get(out);
    return out;
  }

  @Override
  public void close() throws IOException {
    try {
      if (transmitting && channel.isOpen()) {
        writeFully(channel, ByteBuffer.allocate(REQUEST_HEADER).putInt(REQUEST_MAGIC).putShort((short) 0)
            .putShort((short) CMD_DISC).putLong(++cookie).putLong(0).putInt(0).flip());
      }
    } finally {
      channel.close();
    }
  }
}
