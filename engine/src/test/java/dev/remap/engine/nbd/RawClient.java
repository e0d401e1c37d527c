package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A deliberately simple blocking NBD client that sends exactly the bytes a test asks for, so
 * that tests can check the server's answer to each malformed or hostile message byte by byte.
 * (The real clients — qemu-io, nbdinfo, fio — refuse to send such messages.)
 */
final class RawClient implements AutoCloseable {

  record OptionReply(int option, int type, byte[] data) {
    String text() {
      return new String(data, StandardCharsets.UTF_8);
    }
  }

  /** A reply: simple (type -1) or one structured chunk. */
  record Reply(long handle, int error, int type, int flags, byte[] data) {}

  final SocketChannel channel;

  RawClient(Path socket) throws IOException {
    channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    channel.connect(UnixDomainSocketAddress.of(socket));
  }

  /** Reads the greeting and answers with fixed newstyle + no zeroes. */
  RawClient hello() throws IOException {
    ByteBuffer greeting = read(18);
    if (greeting.getLong() != NBDMAGIC || greeting.getLong() != IHAVEOPT) {
      throw new IOException("not an NBD newstyle server");
    }
    write(ByteBuffer.allocate(4).putInt(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES).flip());
    return this;
  }

  void sendOption(int option, byte[] data) throws IOException {
    write(ByteBuffer.allocate(16 + data.length).putLong(IHAVEOPT).putInt(option).putInt(data.length).put(data).flip());
  }

  OptionReply readOptionReply() throws IOException {
    ByteBuffer header = read(20);
    long magic = header.getLong();
    if (magic != OPTION_REPLY_MAGIC) {
      throw new IOException("bad option reply magic 0x" + Long.toHexString(magic));
    }
    int option = header.getInt();
    int type = header.getInt();
    int length = header.getInt();
    return new OptionReply(option, type, read(length).array());
  }

  /** Sends an option and reads replies up to the final one (ACK or an error). */
  List<OptionReply> option(int option, byte[] data) throws IOException {
    sendOption(option, data);
    List<OptionReply> replies = new ArrayList<>();
    while (true) {
      OptionReply reply = readOptionReply();
      replies.add(reply);
      if (reply.type() == REP_ACK || reply.type() < 0) {
        return replies;
      }
    }
  }

  static byte[] exportQuery(String name, int... infos) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length).putInt(n.length).put(n).putShort((short) infos.length);
    for (int info : infos) {
      b.putShort((short) info);
    }
    return b.array();
  }

  static byte[] metaQuery(String export, String... queries) {
    byte[] n = export.getBytes(StandardCharsets.UTF_8);
    int size = 8 + n.length;
    for (String q : queries) {
      size += 4 + q.getBytes(StandardCharsets.UTF_8).length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).putInt(n.length).put(n).putInt(queries.length);
    for (String q : queries) {
      byte[] bytes = q.getBytes(StandardCharsets.UTF_8);
      b.putInt(bytes.length).put(bytes);
    }
    return b.array();
  }

  /** Structured replies, base:allocation and GO: ready for transmission. Returns the export size. */
  long go(String export) throws IOException {
    option(OPT_STRUCTURED_REPLY, new byte[0]);
    option(OPT_SET_META_CONTEXT, metaQuery(export, BASE_ALLOCATION));
    long size = -1;
    for (OptionReply r : option(OPT_GO, exportQuery(export))) {
      if (r.type() < 0) {
        throw new IOException("GO refused: " + r.text());
      }
      ByteBuffer d = ByteBuffer.wrap(r.data());
      if (r.type() == REP_INFO && d.getShort() == INFO_EXPORT) {
        size = d.getLong();
      }
    }
    return size;
  }

  void request(int flags, int type, long handle, long offset, long length, byte[] payload) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(REQUEST_HEADER + (payload == null ? 0 : payload.length));
    b.putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(handle).putLong(offset)
        .putInt((int) length);
    if (payload != null) {
      b.put(payload);
    }
    write(b.flip());
  }

  Reply readReply() throws IOException {
    ByteBuffer magic = read(4);
    int m = magic.getInt();
    if (m == SIMPLE_REPLY_MAGIC) {
      ByteBuffer rest = read(12);
      return new Reply(rest.getLong(4), rest.getInt(0), -1, 0, new byte[0]);
    }
    if (m != STRUCTURED_REPLY_MAGIC) {
      throw new IOException("bad reply magic 0x" + Integer.toHexString(m));
    }
    ByteBuffer h = read(16);
    int flags = Short.toUnsignedInt(h.getShort());
    int type = Short.toUnsignedInt(h.getShort());
    long handle = h.getLong();
    int length = h.getInt();
    byte[] data = read(length).array();
    int error = (type & 0x8000) != 0 ? ByteBuffer.wrap(data).getInt() : 0;
    return new Reply(handle, error, type, flags, data);
  }

  void write(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      channel.write(b);
    }
  }

  ByteBuffer read(int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (channel.read(b) < 0) {
        throw new EOFException("the server closed the connection");
      }
    }
    return b.flip();
  }

  /** True when the server has closed the connection (reads end). */
  boolean closedByServer() {
    try {
      return channel.read(ByteBuffer.allocate(1)) < 0;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
