package dev.remap.csi.node;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The helper keeper's protocol, one request and one answer per connection on its Unix socket:
 * a request is "RK1", an operation (start, run, ping), a timeout in seconds, a log path and the
 * command's words; an answer is a status (ok or error), a number (a pid or an exit code) and a
 * text (a command's output or an error message). Pure encoding; fuzzed by KeeperWireTest.
 */
final class KeeperWire {

  private static final String MAGIC = "RK1";
  /** Longest text answered (DataOutput's modified UTF-8 is limited to 64 KiB). */
  static final int MAX_TEXT = 16_000;
  private static final int MAX_WORDS = 512;

  enum Op { START, RUN, PING }

  record Request(Op op, int timeoutSeconds, String log, List<String> command) {
    Request {
      command = List.copyOf(command);
      if (command.size() > MAX_WORDS) {
        throw new IllegalArgumentException("a command of " + command.size() + " words is too long");
      }
      if (op != Op.PING && command.isEmpty()) {
        throw new IllegalArgumentException("no command to " + op.name().toLowerCase(java.util.Locale.ROOT));
      }
    }
  }

  record Answer(boolean ok, long value, String text) {
    Answer {
      text = text.length() > MAX_TEXT ? text.substring(text.length() - MAX_TEXT) : text;
    }
  }

  private KeeperWire() {}

  static void write(DataOutputStream out, Request request) throws IOException {
    out.writeUTF(MAGIC);
    out.writeByte(request.op().ordinal());
    out.writeInt(request.timeoutSeconds());
    out.writeUTF(request.log());
    out.writeShort(request.command().size());
    for (String word : request.command()) {
      out.writeUTF(word);
    }
    out.flush();
  }

  static Request readRequest(DataInputStream in) throws IOException {
    String magic = in.readUTF();
    if (!MAGIC.equals(magic)) {
      throw new IOException("not a helper keeper request (it starts with '" + magic + "')");
    }
    int op = in.readUnsignedByte();
    if (op >= Op.values().length) {
      throw new IOException("unknown helper keeper operation " + op);
    }
    int timeout = in.readInt();
    String log = in.readUTF();
    int words = in.readUnsignedShort();
    if (words > MAX_WORDS) {
      throw new IOException("a command of " + words + " words is too long");
    }
    List<String> command = new ArrayList<>(words);
    for (int i = 0; i < words; i++) {
      command.add(in.readUTF());
    }
    try {
      return new Request(Op.values()[op], timeout, log, command);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage());
    }
  }

  static void write(DataOutputStream out, Answer answer) throws IOException {
    out.writeBoolean(answer.ok());
    out.writeLong(answer.value());
    out.writeUTF(answer.text());
    out.flush();
  }

  static Answer readAnswer(DataInputStream in) throws IOException {
    return new Answer(in.readBoolean(), in.readLong(), in.readUTF());
  }
}
