package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Bytes of the option phase, in and out. Pure: no sockets, no state; every parser takes the
 * exact bytes the client sent and either returns a value or throws {@link OptionException}
 * naming what is wrong, so the fuzz tests can feed it anything.
 */
final class OptionCodec {

  /** The 16-byte header that precedes every option the client sends. */
  record OptionHeader(int option, long length) {}

  /** NBD_OPT_INFO / NBD_OPT_GO data: the export and the information items asked for. */
  record ExportQuery(String name, List<Integer> infos) {}

  /** NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT data. */
  record MetaQuery(String export, List<String> queries) {}

  /** A well-formed option that cannot be honoured: the reply type and a message for a human. */
  static final class OptionException extends Exception {
    final int replyType;

    OptionException(int replyType, String message) {
      super(message);
      this.replyType = replyType;
    }
  }

  private OptionCodec() {}

  /** What the server sends first: the two magics and its handshake flags. */
  static ByteBuffer greeting() {
    return ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(IHAVEOPT)
        .putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip();
  }

  /** The client's 32-bit flags; unknown bits mean a client this server cannot talk to. */
  static int parseClientFlags(ByteBuffer four) throws OptionException {
    int flags = four.getInt();
    if ((flags & ~(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES)) != 0) {
      throw new OptionException(REP_ERR_INVALID, "unknown client flags 0x" + Integer.toHexString(flags));
    }
    return flags;
  }

  static OptionHeader parseHeader(ByteBuffer sixteen) throws OptionException {
    long magic = sixteen.getLong();
    if (magic != IHAVEOPT) {
      throw new OptionException(REP_ERR_INVALID, "option magic 0x" + Long.toHexString(magic) + " is not IHAVEOPT");
    }
    int option = sixteen.getInt();
    long length = Integer.toUnsignedLong(sixteen.getInt());
    return new OptionHeader(option, length);
  }

  static ExportQuery parseExportQuery(ByteBuffer data) throws OptionException {
    try {
      String name = string(data, lengthField(data), "export name");
      int count = Short.toUnsignedInt(data.getShort());
      if (data.remaining() != count * 2) {
        throw invalid("the option announces " + count + " information requests but carries "
            + data.remaining() + " bytes for them");
      }
      List<Integer> infos = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        infos.add(Short.toUnsignedInt(data.getShort()));
      }
      return new ExportQuery(name, infos);
    } catch (BufferUnderflowException e) {
      throw invalid("the option data ends early");
    }
  }

  static MetaQuery parseMetaQuery(ByteBuffer data) throws OptionException {
    try {
      String export = string(data, lengthField(data), "export name");
      long count = Integer.toUnsignedLong(data.getInt());
      // Each query takes at least its 4-byte length: a count the data cannot hold is a lie.
      if (count > data.remaining() / 4) {
        throw invalid("the option announces " + count + " queries but carries " + data.remaining() + " bytes");
      }
      List<String> queries = new ArrayList<>((int) count);
      for (long i = 0; i < count; i++) {
        queries.add(string(data, lengthField(data), "query"));
      }
      if (data.hasRemaining()) {
        throw invalid(data.remaining() + " bytes follow the last query");
      }
      return new MetaQuery(export, queries);
    } catch (BufferUnderflowException e) {
      throw invalid("the option data ends early");
    }
  }

  /** NBD_OPT_EXPORT_NAME carries the bare name as its whole data. */
  static String parseExportName(ByteBuffer data) throws OptionException {
    return string(data, data.remaining(), "export name");
  }

  private static int lengthField(ByteBuffer data) throws OptionException {
    long length = Integer.toUnsignedLong(data.getInt());
    if (length > data.remaining()) {
      throw invalid("a string of " + length + " bytes is announced but only " + data.remaining() + " follow");
    }
    return (int) length;
  }

  /** A protocol string: UTF-8, no NUL, at most 4096 bytes. */
  private static String string(ByteBuffer data, int length, String what) throws OptionException {
    if (length > MAX_STRING) {
      throw new OptionException(REP_ERR_TOO_BIG, what + " is " + length + " bytes; the limit is " + MAX_STRING);
    }
    ByteBuffer bytes = data.slice().limit(length);
    data.position(data.position() + length);
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bytes).toString();
    } catch (CharacterCodingException e) {
      throw invalid(what + " is not valid UTF-8");
    }
    if (text.indexOf('\0') >= 0) {
      throw invalid(what + " contains a NUL character");
    }
    return text;
  }

  private static OptionException invalid(String message) {
    return new OptionException(REP_ERR_INVALID, message);
  }

  // Replies.

  static ByteBuffer reply(int option, int type, ByteBuffer payload) {
    ByteBuffer out = ByteBuffer.allocate(20 + payload.remaining());
    out.putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(payload.remaining()).put(payload);
    return out.flip();
  }

  static ByteBuffer ack(int option) {
    return reply(option, REP_ACK, ByteBuffer.allocate(0));
  }

  /** An error reply; the message is cut to the protocol's string limit. */
  static ByteBuffer error(int option, int type, String message) {
    byte[] text = message.getBytes(StandardCharsets.UTF_8);
    int length = Math.min(text.length, MAX_STRING);
    return reply(option, type, ByteBuffer.wrap(text, 0, length));
  }

  static ByteBuffer server(int option, String name) {
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    return reply(option, REP_SERVER, ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).flip());
  }

  static ByteBuffer infoExport(int option, long size, int transmissionFlags) {
    return reply(option, REP_INFO, ByteBuffer.allocate(12)
        .putShort((short) INFO_EXPORT).putLong(size).putShort((short) transmissionFlags).flip());
  }

  static ByteBuffer infoName(int option, String name) {
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    return reply(option, REP_INFO, ByteBuffer.allocate(2 + bytes.length).putShort((short) INFO_NAME).put(bytes).flip());
  }

  static ByteBuffer infoBlockSize(int option, int minimum, int preferred, int maximum) {
    return reply(option, REP_INFO, ByteBuffer.allocate(14)
        .putShort((short) INFO_BLOCK_SIZE).putInt(minimum).putInt(preferred).putInt(maximum).flip());
  }

  static ByteBuffer metaContext(int option, int id, String name) {
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    return reply(option, REP_META_CONTEXT, ByteBuffer.allocate(4 + bytes.length).putInt(id).put(bytes).flip());
  }

  /** The reply to NBD_OPT_EXPORT_NAME: size, flags and (unless the client said no) 124 zeroes. */
  static ByteBuffer exportNameReply(long size, int transmissionFlags, boolean noZeroes) {
    ByteBuffer out = ByteBuffer.allocate(noZeroes ? 10 : 134);
    out.putLong(size).putShort((short) transmissionFlags);
    return out.position(out.capacity()).flip();
  }
}
