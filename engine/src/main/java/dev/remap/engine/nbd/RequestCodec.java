package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;

import dev.remap.engine.block.BlockDevice.Extent;
import dev.remap.engine.nbd.Negotiation.Session;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Bytes of the transmission phase: request headers in, replies out, and the checks that decide
 * whether a request may run at all. Pure: no sockets, no state, so it can be fuzzed.
 */
final class RequestCodec {

  /** One request header as the client sent it; offset and length are unsigned on the wire. */
  record Request(int flags, int type, long handle, long offset, long length) {
    boolean fua() {
      return (flags & CMD_FLAG_FUA) != 0;
    }

    boolean has(int flag) {
      return (flags & flag) != 0;
    }

    /** Only WRITE carries a payload after its header. */
    long payloadLength() {
      return type == CMD_WRITE ? length : 0;
    }
  }

  /** Why a request is refused: the errno for the client and a sentence for a human. */
  record Rejection(int error, String message) {}

  /** A header whose magic is wrong: the stream is out of step and the connection must end. */
  static final class BadMagicException extends Exception {
    BadMagicException(int magic) {
      super("request magic 0x" + Integer.toHexString(magic) + " is not NBD_REQUEST_MAGIC");
    }
  }

  private RequestCodec() {}

  static Request parse(ByteBuffer header) throws BadMagicException {
    int magic = header.getInt();
    if (magic != REQUEST_MAGIC) {
      throw new BadMagicException(magic);
    }
    int flags = Short.toUnsignedInt(header.getShort());
    int type = Short.toUnsignedInt(header.getShort());
    long handle = header.getLong();
    long offset = header.getLong();
    long length = Integer.toUnsignedLong(header.getInt());
    return new Request(flags, type, handle, offset, length);
  }

  /** Null when the request may run on the export the session is for; the refusal otherwise. */
  static Rejection check(Request r, Session session) {
    int allowed = CMD_FLAG_FUA;
    switch (r.type()) {
      case CMD_READ -> allowed |= session.structuredReplies() ? CMD_FLAG_DF : 0;
      case CMD_WRITE_ZEROES -> allowed |= CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO;
      case CMD_BLOCK_STATUS -> allowed |= CMD_FLAG_REQ_ONE;
      case CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_TRIM -> { }
      default -> {
        return new Rejection(EINVAL, commandName(r.type()) + " is not a command this server knows");
      }
    }
    if ((r.flags() & ~allowed) != 0) {
      return new Rejection(EINVAL, "flags 0x" + Integer.toHexString(r.flags() & ~allowed)
          + " are not valid on " + commandName(r.type()));
    }
    if (r.type() == CMD_DISC || r.type() == CMD_FLUSH) {
      return null;
    }
    boolean changes = r.type() == CMD_WRITE || r.type() == CMD_TRIM || r.type() == CMD_WRITE_ZEROES;
    if (changes && session.info().readOnly()) {
      return new Rejection(EPERM, "export " + session.info().name() + " is read-only");
    }
    if (r.type() == CMD_BLOCK_STATUS && !session.baseAllocation()) {
      return new Rejection(EINVAL, "NBD_CMD_BLOCK_STATUS needs base:allocation chosen with NBD_OPT_SET_META_CONTEXT");
    }
    if (r.length() == 0) {
      return new Rejection(EINVAL, commandName(r.type()) + " of length 0");
    }
    if ((r.type() == CMD_READ || r.type() == CMD_WRITE) && r.length() > MAX_PAYLOAD) {
      return new Rejection(session.structuredReplies() ? EOVERFLOW : EINVAL, commandName(r.type()) + " of "
          + r.length() + " bytes is larger than the maximum block size " + MAX_PAYLOAD);
    }
    long size = session.info().size();
    if (r.offset() < 0 || r.offset() > size || r.length() > size - r.offset()) {
      // The protocol asks for ENOSPC when a write runs past the end, EINVAL otherwise.
      boolean write = r.type() == CMD_WRITE || r.type() == CMD_WRITE_ZEROES;
      return new Rejection(write ? ENOSPC : EINVAL, "range offset=" + Long.toUnsignedString(r.offset())
          + " length=" + r.length() + " runs past the end of export " + session.info().name() + " (size " + size + ")");
    }
    return null;
  }

  // Replies.

  static ByteBuffer simpleReply(long handle, int error) {
    return ByteBuffer.allocate(SIMPLE_REPLY_HEADER).putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(handle).flip();
  }

  private static ByteBuffer chunk(int flags, int type, long handle, int payloadLength, int extra) {
    return ByteBuffer.allocate(STRUCTURED_REPLY_HEADER + extra).putInt(STRUCTURED_REPLY_MAGIC)
        .putShort((short) flags).putShort((short) type).putLong(handle).putInt(payloadLength);
  }

  /** The header of a successful read: a simple reply, or one OFFSET_DATA chunk marked DONE. */
  static ByteBuffer readReplyHeader(long handle, long offset, int length, boolean structured) {
    if (!structured) {
      return simpleReply(handle, 0);
    }
    return chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, handle, 8 + length, 8).putLong(offset).flip();
  }

  /** Success of a command without data. */
  static ByteBuffer done(long handle, boolean structured) {
    return structured ? chunk(REPLY_FLAG_DONE, REPLY_TYPE_NONE, handle, 0, 0).flip() : simpleReply(handle, 0);
  }

  /** A failure: an ERROR chunk with the message when structured replies are on, else a simple reply. */
  static ByteBuffer error(long handle, int error, String message, boolean structured) {
    if (!structured) {
      return simpleReply(handle, error);
    }
    byte[] text = message.getBytes(StandardCharsets.UTF_8);
    int length = Math.min(text.length, MAX_STRING);
    return chunk(REPLY_FLAG_DONE, REPLY_TYPE_ERROR, handle, 6 + length, 6 + length)
        .putInt(error).putShort((short) length).put(text, 0, length).flip();
  }

  /**
   * One BLOCK_STATUS chunk for base:allocation covering [offset, offset+length) from its start:
   * neighbours with equal flags are joined, and at most {@link NbdProtocol#MAX_EXTENTS}
   * descriptors (one with REQ_ONE) are sent; the client asks again for the rest.
   */
  static ByteBuffer blockStatus(long handle, long offset, long length, List<Extent> extents, boolean reqOne) {
    int limit = reqOne ? 1 : MAX_EXTENTS;
    long[] lengths = new long[Math.min(limit, Math.max(1, extents.size()))];
    int[] flags = new int[lengths.length];
    int count = 0;
    long end = offset + length;
    for (Extent e : extents) {
      long from = Math.max(e.offset(), offset);
      long to = Math.min(e.offset() + e.length(), end);
      if (to <= from) {
        continue;
      }
      int state = (e.hole() ? STATE_HOLE : 0) | (e.zero() ? STATE_ZERO : 0);
      if (count > 0 && flags[count - 1] == state) {
        lengths[count - 1] += to - from;
      } else if (count < lengths.length) {
        lengths[count] = to - from;
        flags[count] = state;
        count++;
      } else {
        break;
      }
    }
    if (count == 0) {
      // The device said nothing about the range: "allocated, contents unknown" is always true.
      lengths[0] = length;
      count = 1;
    }
    int payload = 4 + 8 * count;
    ByteBuffer out = chunk(REPLY_FLAG_DONE, REPLY_TYPE_BLOCK_STATUS, handle, payload, payload);
    out.putInt(BASE_ALLOCATION_ID);
    for (int i = 0; i < count; i++) {
      out.putInt((int) lengths[i]).putInt(flags[i]);
    }
    return out.flip();
  }
}
