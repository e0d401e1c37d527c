package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.nbd.Negotiation.Next;
import dev.remap.engine.nbd.Negotiation.Outcome;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The option phase as a pure state machine: options in, exact reply bytes out. */
class NegotiationTest {

  private boolean shuttingDown;
  private final Negotiation<MemoryCatalog.Open> plain =
      new Negotiation<>(MemoryCatalog.standard(), false, () -> shuttingDown);

  /** One parsed option reply. */
  record Rep(int option, int type, ByteBuffer data) {}

  static List<Rep> parse(List<ByteBuffer> replies) {
    List<Rep> out = new ArrayList<>();
    for (ByteBuffer b : replies) {
      ByteBuffer r = b.duplicate();
      assertThat(r.getLong()).isEqualTo(OPTION_REPLY_MAGIC);
      int option = r.getInt();
      int type = r.getInt();
      int length = r.getInt();
      assertThat(r.remaining()).isEqualTo(length);
      out.add(new Rep(option, type, r.slice()));
    }
    return out;
  }

  private Outcome<MemoryCatalog.Open> handle(Negotiation<MemoryCatalog.Open> n, int option, byte[] data) throws Exception {
    return n.handle(option, ByteBuffer.wrap(data));
  }

  @Test
  void goAnswersNameBlockSizesAndExportThenAckAndEntersTransmission() throws Exception {
    handle(plain, OPT_STRUCTURED_REPLY, new byte[0]);
    handle(plain, OPT_SET_META_CONTEXT, RawClient.metaQuery("vm1", BASE_ALLOCATION));
    Outcome<MemoryCatalog.Open> go = handle(plain, OPT_GO, RawClient.exportQuery("vm1", INFO_NAME, INFO_BLOCK_SIZE));
    List<Rep> reps = parse(go.replies());
    assertThat(reps).extracting(Rep::type).containsExactly(REP_INFO, REP_INFO, REP_INFO, REP_ACK);
    assertThat(reps.get(0).data().getShort()).isEqualTo((short) INFO_NAME);
    ByteBuffer sizes = reps.get(1).data();
    assertThat(sizes.getShort()).isEqualTo((short) INFO_BLOCK_SIZE);
    assertThat(List.of(sizes.getInt(), sizes.getInt(), sizes.getInt())).containsExactly(1, 4096, 32 << 20);
    ByteBuffer export = reps.get(2).data();
    assertThat(export.getShort()).isEqualTo((short) INFO_EXPORT);
    assertThat(export.getLong()).isEqualTo(1L << 30);
    int flags = Short.toUnsignedInt(export.getShort());
    assertThat(flags & (TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM
        | TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_FAST_ZERO | TFLAG_CAN_MULTI_CONN | TFLAG_SEND_DF))
        .isEqualTo(TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM
            | TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_FAST_ZERO | TFLAG_CAN_MULTI_CONN | TFLAG_SEND_DF);
    assertThat(flags & TFLAG_READ_ONLY).isZero();
    assertThat(go.next()).isEqualTo(Next.TRANSMIT);
    assertThat(go.session().structuredReplies()).isTrue();
    assertThat(go.session().baseAllocation()).isTrue();
    assertThat(go.export().info().name()).isEqualTo("vm1");
  }

  @Test
  void snapshotsAreReadOnlyWithoutTrimAndZeroesAndSimpleClientsGetNoDf() throws Exception {
    Outcome<MemoryCatalog.Open> info = handle(plain, OPT_INFO, RawClient.exportQuery("vm1@s1"));
    ByteBuffer export = parse(info.replies()).get(1).data();
    export.getShort();
    export.getLong();
    int flags = Short.toUnsignedInt(export.getShort());
    assertThat(flags & TFLAG_READ_ONLY).isNotZero();
    assertThat(flags & (TFLAG_SEND_TRIM | TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_FAST_ZERO | TFLAG_SEND_DF)).isZero();
    assertThat(info.next()).isEqualTo(Next.CONTINUE);
  }

  @Test
  void onlyWhatTheDeviceDeclaredIsAdvertised() throws Exception {
    // A writable device that can neither trim, zero cheaply nor make one write durable alone
    // (a memory pool would be one): clients must not be offered those commands.
    var catalog = new MemoryCatalog().add("pool", 1L << 20,
        new dev.remap.engine.block.Capabilities(false, false, false, false, 1L << 20));
    Negotiation<MemoryCatalog.Open> n = new Negotiation<>(catalog, false, () -> false);
    ByteBuffer export = parse(handle(n, OPT_INFO, RawClient.exportQuery("pool")).replies()).get(1).data();
    export.getShort();
    export.getLong();
    int flags = Short.toUnsignedInt(export.getShort());
    assertThat(flags & TFLAG_READ_ONLY).isZero();
    assertThat(flags & TFLAG_SEND_FLUSH).as("flush is always offered").isNotZero();
    assertThat(flags & (TFLAG_SEND_TRIM | TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_FAST_ZERO | TFLAG_SEND_FUA)).isZero();
  }

  @Test
  void listMetaContextsAndContextsChosenForAnotherExport() throws Exception {
    List<Rep> list = parse(handle(plain, OPT_LIST, new byte[0]).replies());
    assertThat(list).extracting(Rep::type).containsExactly(REP_SERVER, REP_SERVER, REP_SERVER, REP_ACK);

    assertThat(parse(handle(plain, OPT_LIST_META_CONTEXT, RawClient.metaQuery("vm1")).replies()).get(0).type())
        .isEqualTo(REP_ERR_INVALID); // structured replies first
    handle(plain, OPT_STRUCTURED_REPLY, new byte[0]);
    List<Rep> all = parse(handle(plain, OPT_LIST_META_CONTEXT, RawClient.metaQuery("vm1")).replies());
    assertThat(all).extracting(Rep::type).containsExactly(REP_META_CONTEXT, REP_ACK);
    assertThat(parse(handle(plain, OPT_LIST_META_CONTEXT, RawClient.metaQuery("vm1", "base:")).replies()))
        .extracting(Rep::type).containsExactly(REP_META_CONTEXT, REP_ACK);
    assertThat(parse(handle(plain, OPT_SET_META_CONTEXT, RawClient.metaQuery("vm1", "qemu:dirty-bitmap:x")).replies()))
        .extracting(Rep::type).containsExactly(REP_ACK);
    assertThat(parse(handle(plain, OPT_SET_META_CONTEXT, RawClient.metaQuery("vm1", "nonamespace")).replies()))
        .extracting(Rep::type).containsExactly(REP_ERR_INVALID);
    List<Rep> set = parse(handle(plain, OPT_SET_META_CONTEXT, RawClient.metaQuery("vm1", BASE_ALLOCATION)).replies());
    assertThat(set.get(0).data().getInt()).isEqualTo(BASE_ALLOCATION_ID);

    Outcome<MemoryCatalog.Open> go = handle(plain, OPT_GO, RawClient.exportQuery("vm1@s1"));
    assertThat(go.session().baseAllocation()).isFalse(); // chosen for vm1, not for vm1@s1
  }

  @Test
  void exportNameRepliesWithOrWithoutZeroesAndHangsUpOnUnknownNames() throws Exception {
    plain.clientFlags(CLIENT_FLAG_FIXED_NEWSTYLE);
    Outcome<MemoryCatalog.Open> withZeroes = handle(plain, OPT_EXPORT_NAME, "vm1".getBytes());
    assertThat(withZeroes.replies().get(0).remaining()).isEqualTo(134);
    assertThat(withZeroes.next()).isEqualTo(Next.TRANSMIT);

    Negotiation<MemoryCatalog.Open> n = new Negotiation<>(MemoryCatalog.standard(), false, () -> false);
    n.clientFlags(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
    ByteBuffer reply = handle(n, OPT_EXPORT_NAME, "vm1".getBytes()).replies().get(0);
    assertThat(reply.remaining()).isEqualTo(10);
    assertThat(reply.getLong()).isEqualTo(1L << 30);
    assertThat(handle(n, OPT_EXPORT_NAME, "nope".getBytes()).next()).isEqualTo(Next.CLOSE);
  }

  @Test
  void aTlsListenerRefusesEverythingButStartTlsUntilTlsIsOnAndThenForgetsTheClearTextState() throws Exception {
    Negotiation<MemoryCatalog.Open> tls = new Negotiation<>(MemoryCatalog.standard(), true, () -> false);
    assertThat(parse(handle(tls, OPT_LIST, new byte[0]).replies()).get(0).type()).isEqualTo(REP_ERR_TLS_REQD);
    assertThat(handle(tls, OPT_EXPORT_NAME, "vm1".getBytes()).next()).isEqualTo(Next.CLOSE);
    assertThat(parse(handle(tls, OPT_STARTTLS, new byte[] {1}).replies()).get(0).type()).isEqualTo(REP_ERR_INVALID);
    Outcome<MemoryCatalog.Open> start = handle(tls, OPT_STARTTLS, new byte[0]);
    assertThat(start.next()).isEqualTo(Next.START_TLS);
    tls.tlsStarted();
    assertThat(parse(handle(tls, OPT_STARTTLS, new byte[0]).replies()).get(0).type()).isEqualTo(REP_ERR_INVALID);
    assertThat(handle(tls, OPT_GO, RawClient.exportQuery("vm1")).next()).isEqualTo(Next.TRANSMIT);
  }

  @Test
  void shutdownRefusesOptionsButLetsTheClientAbort() throws Exception {
    shuttingDown = true;
    assertThat(parse(handle(plain, OPT_GO, RawClient.exportQuery("vm1")).replies()).get(0).type())
        .isEqualTo(REP_ERR_SHUTDOWN);
    Outcome<MemoryCatalog.Open> abort = handle(plain, OPT_ABORT, new byte[0]);
    assertThat(parse(abort.replies()).get(0).type()).isEqualTo(REP_ACK);
    assertThat(abort.next()).isEqualTo(Next.CLOSE);
  }

  @Test
  void optionDataTooBigGetsTooBigExceptForExportNameWhichCannotBeRefused() {
    assertThat(parse(plain.tooBig(OPT_GO).replies()).get(0).type()).isEqualTo(REP_ERR_TOO_BIG);
    assertThat(plain.tooBig(OPT_EXPORT_NAME).next()).isEqualTo(Next.CLOSE);
  }

  @Test
  void clientFlagsWithUnknownBitsAreRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> OptionCodec.parseClientFlags(ByteBuffer.allocate(4).putInt(4).flip()))
        .hasMessageContaining("unknown client flags");
  }
}
