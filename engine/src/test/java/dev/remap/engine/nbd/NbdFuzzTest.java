package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.remap.engine.nbd.Negotiation.Outcome;
import dev.remap.engine.nbd.Negotiation.Session;
import dev.remap.engine.nbd.OptionCodec.OptionException;
import dev.remap.engine.nbd.OptionCodec.OptionHeader;
import dev.remap.engine.nbd.RequestCodec.Rejection;
import dev.remap.engine.nbd.RequestCodec.Request;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Fuzzing of what a client controls: the option phase (client flags, option frames, their data)
 * and the request headers of the transmission phase, driven through the same pure code the
 * server runs. Every input must end in replies that are well-formed and consistent, never in an
 * exception, and allocations stay bounded by the protocol limits.
 *
 * <p>{@code mvn test} replays the corpus under src/test/resources/dev/remap/engine/nbd/
 * NbdFuzzTestInputs/TARGET/ (a regression run of a few seconds): the named inputs are
 * hand-made, the hashed ones are what a long run found (2026-12-05: 5 minutes per target, no
 * crash), cut by libFuzzer's merge to one input per code edge they add. A long run, one target
 * at a time, from the repository root:
 * <pre>
 *   JAZZER_FUZZ=1 mvn -o -pl engine -am test -Dsurefire.failIfNoSpecifiedTests=false \
 *       -Dtest=NbdFuzzTest#optionPhase -Djazzer.max_duration=30m
 * </pre>
 * It starts from that corpus, puts the inputs it finds in engine/.cifuzz-corpus/ (not committed)
 * and a crashing input in NbdFuzzTestInputs/TARGET/. To keep the new inputs that add coverage,
 * merge them into the corpus, from engine/ (the classpath from {@code mvn -o -q
 * dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/cp}):
 * <pre>
 *   java -cp target/classes:target/test-classes:$(cat /tmp/cp) \
 *       com.code_intelligence.jazzer.Jazzer --target_class=dev.remap.engine.nbd.NbdFuzzTest \
 *       --target_method=optionPhase -merge=1 -use_counters=0 \
 *       src/test/resources/dev/remap/engine/nbd/NbdFuzzTestInputs/optionPhase \
 *       .cifuzz-corpus/dev.remap.engine.nbd.NbdFuzzTest/optionPhase
 * </pre>
 * ({@code -use_counters=0}: an input is kept for a new edge, not for a new hit count of a known
 * one, which would keep hundreds.)
 */
class NbdFuzzTest {

  /** The client's side of the option phase, as it arrives on the socket. */
  @FuzzTest(maxDuration = "10s")
  void optionPhase(byte[] input) throws Exception {
    ByteBuffer in = ByteBuffer.wrap(input);
    // A listener with TLS when the input ends in 'T' (the client flags up front must stay valid).
    boolean tls = input.length > 0 && input[input.length - 1] == 'T';
    Negotiation<MemoryCatalog.Open> negotiation = new Negotiation<>(MemoryCatalog.standard(), tls, () -> false);
    if (in.remaining() < 4) {
      return;
    }
    try {
      negotiation.clientFlags(OptionCodec.parseClientFlags(in));
    } catch (OptionException refused) {
      return; // the connection closes
    }
    while (in.remaining() >= 16) {
      OptionHeader header;
      try {
        header = OptionCodec.parseHeader(in);
      } catch (OptionException badMagic) {
        return; // the connection closes
      }
      Outcome<MemoryCatalog.Open> outcome;
      if (header.length() > MAX_OPTION_DATA) {
        outcome = negotiation.tooBig(header.option());
        in.position(in.position() + (int) Math.min(in.remaining(), header.length()));
      } else {
        int take = (int) Math.min(in.remaining(), header.length());
        ByteBuffer data = in.slice().limit(take);
        in.position(in.position() + take);
        outcome = negotiation.handle(header.option(), data);
      }
      checkReplies(header.option(), outcome);
      switch (outcome.next()) {
        case CLOSE -> {
          return;
        }
        case START_TLS -> negotiation.tlsStarted();
        case TRANSMIT -> transmission(outcome.session(), in);
        default -> { }
      }
      if (outcome.next() == Negotiation.Next.TRANSMIT) {
        return;
      }
    }
  }

  /** Request headers against an export of a size and kind the input chooses. */
  @FuzzTest(maxDuration = "10s")
  void requests(byte[] input) {
    ByteBuffer in = ByteBuffer.wrap(input);
    if (in.remaining() < 9) {
      return;
    }
    long size = in.getLong() & ((1L << 50) - 1);
    int kind = in.get();
    Session session = new Session(new ExportInfo("vm1", size, (kind & 1) != 0, 4096), 0, (kind & 2) != 0,
        (kind & 4) != 0);
    transmission(session, in);
  }

  private static void transmission(Session session, ByteBuffer in) {
    while (in.remaining() >= REQUEST_HEADER) {
      Request r;
      try {
        r = RequestCodec.parse(in);
      } catch (RequestCodec.BadMagicException e) {
        return;
      }
      Rejection rejection = RequestCodec.check(r, session);
      boolean structured = session.structuredReplies();
      if (rejection != null) {
        check(rejection.error() > 0, "an errno");
        ByteBuffer reply = RequestCodec.error(r.handle(), rejection.error(), rejection.message(), structured);
        check(reply.getInt(0) == (structured ? STRUCTURED_REPLY_MAGIC : SIMPLE_REPLY_MAGIC), "reply magic");
        continue;
      }
      if (r.type() == CMD_DISC || r.type() == CMD_FLUSH) {
        continue;
      }
      // Whatever passes the checks is a range inside the export that the layers below accept.
      check(r.length() > 0 && r.offset() >= 0 && r.offset() + r.length() <= session.info().size(), "in range");
      if (r.type() == CMD_READ || r.type() == CMD_WRITE) {
        check(r.length() <= MAX_PAYLOAD, "payload bounded");
      }
      if (r.type() == CMD_WRITE || r.type() == CMD_TRIM || r.type() == CMD_WRITE_ZEROES) {
        check(!session.info().readOnly(), "writable");
      }
      if (r.type() == CMD_BLOCK_STATUS) {
        ByteBuffer chunk = RequestCodec.blockStatus(r.handle(), r.offset(), r.length(), List.of(), r.has(CMD_FLAG_REQ_ONE));
        check(chunk.getInt(16) == chunk.remaining() - 20, "chunk length");
        check(Integer.toUnsignedLong(chunk.getInt(24)) == r.length(), "one descriptor covering the request");
      }
    }
  }

  /** Every reply is a well-framed option reply to the option asked (or the EXPORT_NAME reply). */
  private static void checkReplies(int option, Outcome<MemoryCatalog.Open> outcome) {
    for (ByteBuffer reply : outcome.replies()) {
      ByteBuffer r = reply.duplicate();
      if (option == OPT_EXPORT_NAME) {
        check(r.remaining() == 10 || r.remaining() == 134, "export name reply size");
        continue;
      }
      check(r.getLong() == OPTION_REPLY_MAGIC, "option reply magic");
      check(r.getInt() == option, "the option is echoed");
      int type = r.getInt();
      check(r.getInt() == r.remaining(), "length matches");
      check(type < 0 || type == REP_ACK || type == REP_SERVER || type == REP_INFO || type == REP_META_CONTEXT,
          "known reply type");
      check(r.remaining() <= 4 + MAX_STRING + 16, "replies stay small");
    }
    if (outcome.next() == Negotiation.Next.TRANSMIT) {
      check(outcome.session() != null && outcome.export() != null, "a session to transmit on");
    }
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError("violated: " + what);
    }
  }
}
