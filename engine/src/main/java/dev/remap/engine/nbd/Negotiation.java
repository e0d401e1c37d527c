package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;

import dev.remap.engine.nbd.OptionCodec.ExportQuery;
import dev.remap.engine.nbd.OptionCodec.MetaQuery;
import dev.remap.engine.nbd.OptionCodec.OptionException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The option phase of one connection as a state machine: each option the client sends goes in,
 * the replies to send and what to do next come out. It does no I/O itself (exports come from a
 * {@link Catalog}), so tests and the fuzzer drive it with plain bytes.
 *
 * <p>Not thread-safe: one connection's reader thread owns it.
 *
 * @param <E> the opened export the catalog hands out at NBD_OPT_GO
 */
final class Negotiation<E extends Negotiation.Opened> {

  /** An export opened for transmission; the connection releases it when it ends. */
  interface Opened {
    ExportInfo info();
  }

  /** Where exports come from. Names the catalog does not know are answered NBD_REP_ERR_UNKNOWN. */
  interface Catalog<E extends Opened> {
    List<String> names() throws IOException;

    Optional<ExportInfo> describe(String name) throws IOException;

    /** Opens (or shares) the export for transmission; empty when there is no such export. */
    Optional<E> open(String name) throws IOException;
  }

  /** What the connection does after sending the replies. */
  enum Next { CONTINUE, CLOSE, START_TLS, TRANSMIT }

  /** The negotiated terms of the transmission phase. */
  record Session(ExportInfo info, int flags, boolean structuredReplies, boolean baseAllocation) {}

  record Outcome<E>(List<ByteBuffer> replies, Next next, E export, Session session) {
    static <E> Outcome<E> of(Next next, ByteBuffer... replies) {
      return new Outcome<>(List.of(replies), next, null, null);
    }
  }

  private final Catalog<E> catalog;
  private final boolean tlsOffered;
  private final BooleanSupplier shuttingDown;
  private boolean noZeroes;
  private boolean tlsActive;
  private boolean structured;
  private String metaExport;
  private boolean baseAllocation;

  /**
   * @param tlsOffered the listener has a certificate: TLS is then required (FORCEDTLS) and every
   *     option but STARTTLS and ABORT is refused until it is on
   */
  Negotiation(Catalog<E> catalog, boolean tlsOffered, BooleanSupplier shuttingDown) {
    this.catalog = catalog;
    this.tlsOffered = tlsOffered;
    this.shuttingDown = shuttingDown;
  }

  void clientFlags(int flags) {
    noZeroes = (flags & CLIENT_FLAG_NO_ZEROES) != 0;
  }

  /** The client sent more option data than any valid option needs; it was skipped unread. */
  Outcome<E> tooBig(int option) {
    if (option == OPT_EXPORT_NAME) {
      return Outcome.of(Next.CLOSE);
    }
    return Outcome.of(Next.CONTINUE, OptionCodec.error(option, REP_ERR_TOO_BIG,
        optionName(option) + " carries more than " + MAX_OPTION_DATA + " bytes of data"));
  }

  /** TLS is now on: what was negotiated in clear text is forgotten, as the protocol asks. */
  void tlsStarted() {
    tlsActive = true;
    structured = false;
    metaExport = null;
    baseAllocation = false;
  }

  Outcome<E> handle(int option, ByteBuffer data) throws IOException {
    if (tlsOffered && !tlsActive && option != OPT_STARTTLS && option != OPT_ABORT) {
      // EXPORT_NAME cannot be answered with an error: the only way to refuse is to hang up.
      return option == OPT_EXPORT_NAME ? Outcome.of(Next.CLOSE)
          : error(option, REP_ERR_TLS_REQD, "this listener requires TLS: send NBD_OPT_STARTTLS first");
    }
    if (shuttingDown.getAsBoolean() && option != OPT_ABORT) {
      return option == OPT_EXPORT_NAME ? Outcome.of(Next.CLOSE)
          : error(option, REP_ERR_SHUTDOWN, "the server is shutting down");
    }
    try {
      return switch (option) {
        case OPT_ABORT -> Outcome.of(Next.CLOSE, OptionCodec.ack(option));
        case OPT_LIST -> list(data);
        case OPT_STARTTLS -> startTls(data);
        case OPT_STRUCTURED_REPLY -> structuredReply(data);
        case OPT_INFO, OPT_GO -> infoOrGo(option, OptionCodec.parseExportQuery(data));
        case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> metaContext(option, OptionCodec.parseMetaQuery(data));
        case OPT_EXPORT_NAME -> exportName(OptionCodec.parseExportName(data));
        default -> error(option, REP_ERR_UNSUP, optionName(option) + " is not supported by this server");
      };
    } catch (OptionException e) {
      return option == OPT_EXPORT_NAME ? Outcome.of(Next.CLOSE) : error(option, e.replyType, e.getMessage());
    }
  }

  private Outcome<E> list(ByteBuffer data) throws IOException {
    if (data.hasRemaining()) {
      return error(OPT_LIST, REP_ERR_INVALID, "NBD_OPT_LIST carries no data");
    }
    List<ByteBuffer> replies = new ArrayList<>();
    for (String name : catalog.names()) {
      replies.add(OptionCodec.server(OPT_LIST, name));
    }
    replies.add(OptionCodec.ack(OPT_LIST));
    return new Outcome<>(replies, Next.CONTINUE, null, null);
  }

  private Outcome<E> startTls(ByteBuffer data) {
    if (data.hasRemaining()) {
      return error(OPT_STARTTLS, REP_ERR_INVALID, "NBD_OPT_STARTTLS carries no data");
    }
    if (!tlsOffered) {
      return error(OPT_STARTTLS, REP_ERR_POLICY, "TLS is not configured on this listener");
    }
    if (tlsActive) {
      return error(OPT_STARTTLS, REP_ERR_INVALID, "TLS is already on");
    }
    return Outcome.of(Next.START_TLS, OptionCodec.ack(OPT_STARTTLS));
  }

  private Outcome<E> structuredReply(ByteBuffer data) {
    if (data.hasRemaining()) {
      return error(OPT_STRUCTURED_REPLY, REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data");
    }
    structured = true;
    return Outcome.of(Next.CONTINUE, OptionCodec.ack(OPT_STRUCTURED_REPLY));
  }

  private Outcome<E> infoOrGo(int option, ExportQuery query) throws IOException {
    ExportInfo info;
    E opened = null;
    try {
      if (option == OPT_GO) {
        opened = catalog.open(query.name()).orElse(null);
        info = opened == null ? null : opened.info();
      } else {
        info = catalog.describe(query.name()).orElse(null);
      }
    } catch (IOException | IllegalArgumentException e) {
      return error(option, REP_ERR_UNKNOWN, "export '" + query.name() + "' cannot be opened: " + e.getMessage());
    }
    if (info == null) {
      return error(option, REP_ERR_UNKNOWN, "there is no export named '" + query.name()
          + "': exports are volume names and VOLUME@SNAPSHOT (NBD_OPT_LIST shows them)");
    }
    List<ByteBuffer> replies = new ArrayList<>();
    if (query.infos().contains(INFO_NAME)) {
      replies.add(OptionCodec.infoName(option, info.name()));
    }
    // Block sizes go out whether asked or not: the minimum is 1, so a client that ignores them
    // loses nothing, and one that reads them learns the preferred and maximum sizes.
    replies.add(OptionCodec.infoBlockSize(option, ExportInfo.MINIMUM_BLOCK, info.preferredBlock(), info.maximumBlock()));
    int flags = transmissionFlags(info);
    replies.add(OptionCodec.infoExport(option, info.size(), flags));
    replies.add(OptionCodec.ack(option));
    if (option == OPT_INFO) {
      return new Outcome<>(replies, Next.CONTINUE, null, null);
    }
    return new Outcome<>(replies, Next.TRANSMIT, opened, session(info, flags));
  }

  private Outcome<E> exportName(String name) throws IOException {
    E opened;
    try {
      opened = catalog.open(name).orElse(null);
    } catch (IOException | IllegalArgumentException e) {
      opened = null;
    }
    if (opened == null) {
      return Outcome.of(Next.CLOSE);
    }
    ExportInfo info = opened.info();
    int flags = transmissionFlags(info);
    return new Outcome<>(List.of(OptionCodec.exportNameReply(info.size(), flags, noZeroes)), Next.TRANSMIT,
        opened, session(info, flags));
  }

  private Session session(ExportInfo info, int flags) {
    // Contexts chosen for another export do not carry over to this one.
    boolean allocation = structured && baseAllocation && info.name().equals(metaExport);
    return new Session(info, flags, structured, allocation);
  }

  private Outcome<E> metaContext(int option, MetaQuery query) throws IOException {
    if (!structured) {
      return error(option, REP_ERR_INVALID, optionName(option) + " needs NBD_OPT_STRUCTURED_REPLY first");
    }
    if (catalog.describe(query.export()).isEmpty()) {
      return error(option, REP_ERR_UNKNOWN, "there is no export named '" + query.export() + "'");
    }
    boolean set = option == OPT_SET_META_CONTEXT;
    boolean matches = !set && query.queries().isEmpty();
    for (String q : query.queries()) {
      if (q.indexOf(':') <= 0) {
        return error(option, REP_ERR_INVALID, "meta context query '" + q + "' has no namespace");
      }
      // "base:" alone asks for every context of the base namespace (LIST only).
      matches |= q.equals(BASE_ALLOCATION) || (!set && q.equals("base:"));
    }
    List<ByteBuffer> replies = new ArrayList<>();
    if (matches) {
      replies.add(OptionCodec.metaContext(option, set ? BASE_ALLOCATION_ID : 0, BASE_ALLOCATION));
    }
    if (set) {
      metaExport = query.export();
      baseAllocation = matches;
    }
    replies.add(OptionCodec.ack(option));
    return new Outcome<>(replies, Next.CONTINUE, null, null);
  }

  /**
   * Multi-conn is safe: every connection to an export shares one stack, and a flush syncs the
   * volume's one journal, which holds every write any connection has had acknowledged.
   */
  int transmissionFlags(ExportInfo info) {
    // What the device declared it can do, nothing guessed: FUA only where a write can be made
    // durable alone, trim and zeroes only where they do something.
    var can = info.capabilities();
    int flags = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_CAN_MULTI_CONN;
    if (can.readOnly()) {
      flags |= TFLAG_READ_ONLY;
    }
    if (can.fua()) {
      flags |= TFLAG_SEND_FUA;
    }
    if (can.trim()) {
      flags |= TFLAG_SEND_TRIM;
    }
    if (can.zeroes()) {
      flags |= TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_FAST_ZERO;
    }
    if (structured) {
      flags |= TFLAG_SEND_DF;
    }
    return flags;
  }

  private Outcome<E> error(int option, int type, String message) {
    return Outcome.of(Next.CONTINUE, OptionCodec.error(option, type, message));
  }
}
