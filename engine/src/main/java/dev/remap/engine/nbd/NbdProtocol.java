package dev.remap.engine.nbd;

/**
 * Numbers of the NBD protocol (fixed newstyle handshake, structured replies, base:allocation),
 * as the protocol specification of the NetworkBlockDevice project defines them. Everything on
 * the wire is big-endian (network byte order), which is also {@link java.nio.ByteBuffer}'s
 * default. Public for the CSI node's reconnecting proxy, which speaks the same protocol.
 */
public final class NbdProtocol {

  private NbdProtocol() {}

  // Handshake.
  public static final long NBDMAGIC = 0x4e42444d41474943L; // "NBDMAGIC"
  public static final long IHAVEOPT = 0x49484156454F5054L; // "IHAVEOPT"
  public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;

  public static final int FLAG_FIXED_NEWSTYLE = 1;
  public static final int FLAG_NO_ZEROES = 2;
  public static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
  public static final int CLIENT_FLAG_NO_ZEROES = 2;

  // Options.
  public static final int OPT_EXPORT_NAME = 1;
  public static final int OPT_ABORT = 2;
  public static final int OPT_LIST = 3;
  public static final int OPT_STARTTLS = 5;
  public static final int OPT_INFO = 6;
  public static final int OPT_GO = 7;
  public static final int OPT_STRUCTURED_REPLY = 8;
  public static final int OPT_LIST_META_CONTEXT = 9;
  public static final int OPT_SET_META_CONTEXT = 10;

  // Option replies.
  public static final int REP_ACK = 1;
  public static final int REP_SERVER = 2;
  public static final int REP_INFO = 3;
  public static final int REP_META_CONTEXT = 4;
  public static final int REP_ERR_UNSUP = 0x80000001;
  public static final int REP_ERR_POLICY = 0x80000002;
  public static final int REP_ERR_INVALID = 0x80000003;
  public static final int REP_ERR_TLS_REQD = 0x80000005;
  public static final int REP_ERR_UNKNOWN = 0x80000006;
  public static final int REP_ERR_SHUTDOWN = 0x80000007;
  public static final int REP_ERR_TOO_BIG = 0x80000009;

  // Information items of NBD_OPT_INFO / NBD_OPT_GO.
  public static final int INFO_EXPORT = 0;
  public static final int INFO_NAME = 1;
  public static final int INFO_DESCRIPTION = 2;
  public static final int INFO_BLOCK_SIZE = 3;

  // Transmission flags.
  public static final int TFLAG_HAS_FLAGS = 1;
  public static final int TFLAG_READ_ONLY = 1 << 1;
  public static final int TFLAG_SEND_FLUSH = 1 << 2;
  public static final int TFLAG_SEND_FUA = 1 << 3;
  public static final int TFLAG_SEND_TRIM = 1 << 5;
  public static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
  public static final int TFLAG_SEND_DF = 1 << 7;
  public static final int TFLAG_CAN_MULTI_CONN = 1 << 8;
  public static final int TFLAG_SEND_FAST_ZERO = 1 << 11;

  // Requests.
  public static final int REQUEST_MAGIC = 0x25609513;
  public static final int REQUEST_HEADER = 28;
  public static final int CMD_READ = 0;
  public static final int CMD_WRITE = 1;
  public static final int CMD_DISC = 2;
  public static final int CMD_FLUSH = 3;
  public static final int CMD_TRIM = 4;
  public static final int CMD_WRITE_ZEROES = 6;
  public static final int CMD_BLOCK_STATUS = 7;

  public static final int CMD_FLAG_FUA = 1;
  public static final int CMD_FLAG_NO_HOLE = 1 << 1;
  public static final int CMD_FLAG_DF = 1 << 2;
  public static final int CMD_FLAG_REQ_ONE = 1 << 3;
  public static final int CMD_FLAG_FAST_ZERO = 1 << 4;

  // Replies.
  public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
  public static final int SIMPLE_REPLY_HEADER = 16;
  public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
  public static final int STRUCTURED_REPLY_HEADER = 20;
  public static final int REPLY_FLAG_DONE = 1;
  public static final int REPLY_TYPE_NONE = 0;
  public static final int REPLY_TYPE_OFFSET_DATA = 1;
  public static final int REPLY_TYPE_BLOCK_STATUS = 5;
  public static final int REPLY_TYPE_ERROR = 0x8001;

  // Errors (the values are Linux errno numbers, fixed by the protocol).
  public static final int EPERM = 1;
  public static final int EIO = 5;
  public static final int ENOMEM = 12;
  public static final int EINVAL = 22;
  public static final int ENOSPC = 28;
  public static final int EOVERFLOW = 75;
  public static final int ESHUTDOWN = 108;

  // base:allocation.
  public static final String BASE_ALLOCATION = "base:allocation";
  /** The id this server gives base:allocation when a client selects it. */
  public static final int BASE_ALLOCATION_ID = 1;
  public static final int STATE_HOLE = 1;
  public static final int STATE_ZERO = 2;

  /** Strings (export names, queries, messages) the protocol bounds at 4096 bytes. */
  public static final int MAX_STRING = 4096;
  /** Option data beyond this is refused with NBD_REP_ERR_TOO_BIG (names and queries are small). */
  public static final int MAX_OPTION_DATA = 64 << 10;
  /** The largest READ or WRITE payload this server accepts (NBD_INFO_BLOCK_SIZE maximum). */
  public static final int MAX_PAYLOAD = 32 << 20;
  /** NBD_INFO_BLOCK_SIZE preferred size when the volume's block is smaller. */
  public static final int PREFERRED_BLOCK = 4096;
  /** At most this many extents in one BLOCK_STATUS reply; the client asks again for the rest. */
  public static final int MAX_EXTENTS = 2048;

  static String optionName(int option) {
    return switch (option) {
      case OPT_EXPORT_NAME -> "NBD_OPT_EXPORT_NAME";
      case OPT_ABORT -> "NBD_OPT_ABORT";
      case OPT_LIST -> "NBD_OPT_LIST";
      case OPT_STARTTLS -> "NBD_OPT_STARTTLS";
      case OPT_INFO -> "NBD_OPT_INFO";
      case OPT_GO -> "NBD_OPT_GO";
      case OPT_STRUCTURED_REPLY -> "NBD_OPT_STRUCTURED_REPLY";
      case OPT_LIST_META_CONTEXT -> "NBD_OPT_LIST_META_CONTEXT";
      case OPT_SET_META_CONTEXT -> "NBD_OPT_SET_META_CONTEXT";
      default -> "option " + Integer.toUnsignedString(option);
    };
  }

  static String commandName(int type) {
    return switch (type) {
      case CMD_READ -> "NBD_CMD_READ";
      case CMD_WRITE -> "NBD_CMD_WRITE";
      case CMD_DISC -> "NBD_CMD_DISC";
      case CMD_FLUSH -> "NBD_CMD_FLUSH";
      case CMD_TRIM -> "NBD_CMD_TRIM";
      case CMD_WRITE_ZEROES -> "NBD_CMD_WRITE_ZEROES";
      case CMD_BLOCK_STATUS -> "NBD_CMD_BLOCK_STATUS";
      default -> "command " + type;
    };
  }
}
