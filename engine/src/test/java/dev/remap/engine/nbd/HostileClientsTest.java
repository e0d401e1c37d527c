package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.nbd.RawClient.OptionReply;
import dev.remap.engine.nbd.RawClient.Reply;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad and hostile input, byte by byte: each gets the protocol's error or closes only its own
 * connection, while the server and the other connections (a real client among them) go on and
 * nothing acknowledged is lost.
 */
class HostileClientsTest {

  private static final long SIZE = 16 << 20;

  @TempDir Path tmp;
  private ServedStore served;

  @BeforeEach
  void serve() throws Exception {
    served = ServedStore.start(tmp).volume("vm1", SIZE);
  }

  @AfterEach
  void stop() throws Exception {
    served.close();
  }

  private RawClient client() throws Exception {
    return new RawClient(served.socket).hello();
  }

  @Test
  void malformedAndUnknownOptionsGetErrorRepliesAndTheConnectionStaysUsable() throws Exception {
    try (RawClient c = client()) {
      assertThat(c.option(99, new byte[] {1, 2, 3}).get(0).type()).isEqualTo(REP_ERR_UNSUP);
      assertThat(c.option(OPT_GO, new byte[] {0, 0, 0, 9, 'x'}).get(0).type()).isEqualTo(REP_ERR_INVALID);
      assertThat(c.option(OPT_GO, new byte[] {0, 0, 0, 2, 'v', 'm', 0, 5}).get(0).type()).isEqualTo(REP_ERR_INVALID);
      assertThat(c.option(OPT_LIST, new byte[] {1}).get(0).type()).isEqualTo(REP_ERR_INVALID);
      assertThat(c.option(OPT_SET_META_CONTEXT, RawClient.metaQuery("vm1", BASE_ALLOCATION)).get(0).type())
          .isEqualTo(REP_ERR_INVALID); // before NBD_OPT_STRUCTURED_REPLY
      assertThat(c.option(OPT_STARTTLS, new byte[0]).get(0).type()).isEqualTo(REP_ERR_POLICY);
      assertThat(c.option(OPT_INFO, RawClient.exportQuery("nope")).get(0).type()).isEqualTo(REP_ERR_UNKNOWN);
      assertThat(c.option(OPT_INFO, RawClient.exportQuery("../../etc")).get(0).type()).isEqualTo(REP_ERR_UNKNOWN);
      assertThat(c.option(OPT_INFO, RawClient.exportQuery("vm1@nope")).get(0).type()).isEqualTo(REP_ERR_UNKNOWN);
      byte[] notUtf8 = {0, 0, 0, 2, (byte) 0xff, (byte) 0xfe, 0, 0};
      assertThat(c.option(OPT_INFO, notUtf8).get(0).type()).isEqualTo(REP_ERR_INVALID);
      OptionReply big = c.option(OPT_INFO, new byte[MAX_OPTION_DATA + 1]).get(0);
      assertThat(big.type()).isEqualTo(REP_ERR_TOO_BIG);
      assertThat(big.text()).contains("NBD_OPT_INFO");

      assertThat(c.go("vm1")).isEqualTo(SIZE);
      c.request(0, CMD_READ, 1, 0, 4096, null);
      Reply read = c.readReply();
      assertThat(read.error()).isZero();
      assertThat(read.data()).hasSize(8 + 4096);
    }
  }

  @Test
  void aBadOptionMagicClosesOnlyThatConnection() throws Exception {
    try (RawClient bad = client(); RawClient good = client()) {
      bad.write(ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
      assertThat(bad.closedByServer()).isTrue();
      assertThat(good.go("vm1")).isEqualTo(SIZE);
    }
  }

  @Test
  void requestsPastTheEndUnknownCommandsAndBadFlagsAreRefusedAndTheStreamStaysInStep() throws Exception {
    try (RawClient c = client()) {
      c.go("vm1");
      c.request(0, CMD_READ, 1, SIZE - 4096, 8192, null);
      assertThat(c.readReply().error()).isEqualTo(EINVAL);
      c.request(0, CMD_READ, 2, Long.MIN_VALUE, 4096, null); // offset 2^63: "negative" if read as signed
      assertThat(c.readReply().error()).isEqualTo(EINVAL);
      c.request(0, CMD_WRITE, 3, SIZE, 4096, new byte[4096]); // the payload is read and dropped
      assertThat(c.readReply().error()).isEqualTo(ENOSPC);
      c.request(0, CMD_TRIM, 4, 0, SIZE + 1, null);
      assertThat(c.readReply().error()).isEqualTo(EINVAL);
      c.request(0, 42, 5, 0, 4096, null);
      Reply unknown = c.readReply();
      assertThat(unknown.error()).isEqualTo(EINVAL);
      assertThat(new String(unknown.data(), 6, unknown.data().length - 6, StandardCharsets.UTF_8)).contains("command 42");
      c.request(CMD_FLAG_NO_HOLE, CMD_READ, 6, 0, 4096, null);
      assertThat(c.readReply().error()).isEqualTo(EINVAL);
      c.request(0, CMD_READ, 7, 0, 0, null);
      assertThat(c.readReply().error()).isEqualTo(EINVAL);

      byte[] data = new byte[4096];
      Arrays.fill(data, (byte) 0x42);
      c.request(CMD_FLAG_FUA, CMD_WRITE, 8, 4096, 4096, data);
      assertThat(c.readReply().error()).isZero();
      c.request(0, CMD_READ, 9, 4096, 4096, null);
      assertThat(Arrays.copyOfRange(c.readReply().data(), 8, 8 + 4096)).isEqualTo(data);
    }
  }

  @Test
  void oversizedRequestsGetEoverflowAndTheirPayloadIsSkipped() throws Exception {
    try (RawClient c = client()) {
      c.go("vm1");
      c.request(0, CMD_READ, 1, 0, MAX_PAYLOAD + 1, null);
      assertThat(c.readReply().error()).isEqualTo(EOVERFLOW);
      c.request(0, CMD_WRITE, 2, 0, MAX_PAYLOAD + 4096, new byte[MAX_PAYLOAD + 4096]);
      assertThat(c.readReply().error()).isEqualTo(EOVERFLOW);
      c.request(0, CMD_BLOCK_STATUS, 3, 0, SIZE, null);
      Reply status = c.readReply();
      assertThat(status.error()).isZero();
      assertThat(status.type()).isEqualTo(REPLY_TYPE_BLOCK_STATUS);
    }
  }

  @Test
  void blockStatusWithoutAMetaContextAndWritesToASnapshotAreRefused() throws Exception {
    served.volumes.snapshot("vm1", "s1");
    try (RawClient c = client()) {
      c.option(OPT_STRUCTURED_REPLY, new byte[0]);
      c.option(OPT_GO, RawClient.exportQuery("vm1@s1"));
      c.request(0, CMD_BLOCK_STATUS, 1, 0, 4096, null);
      assertThat(c.readReply().error()).isEqualTo(EINVAL);
      c.request(0, CMD_WRITE, 2, 0, 4096, new byte[4096]);
      assertThat(c.readReply().error()).isEqualTo(EPERM);
      c.request(0, CMD_WRITE_ZEROES, 3, 0, 4096, null);
      assertThat(c.readReply().error()).isEqualTo(EPERM);
      c.request(0, CMD_READ, 4, 0, 4096, null);
      assertThat(c.readReply().error()).isZero();
    }
  }

  @Test
  void aClientThatNeverReadsItsRepliesDoesNotStallOtherConnections() throws Exception {
    try (RawClient greedy = client(); RawClient other = client()) {
      greedy.go("vm1");
      other.go("vm1");
      // 300 reads of 1 MiB: far more than the socket buffers hold; the server must not block on them.
      for (int i = 0; i < 300; i++) {
        greedy.request(0, CMD_READ, i, 0, 1 << 20, null);
      }
      for (int i = 0; i < 50; i++) {
        other.request(0, CMD_WRITE, i, (long) i * 4096, 4096, new byte[4096]);
        assertThat(other.readReply().error()).isZero();
      }
    }
  }

  @Test
  void garbageFromManyConnectionsAndClientsVanishingMidWriteNeverDisturbAVerifyingFio() throws Exception {
    CompletableFuture<Proc.Result> fio = CompletableFuture.supplyAsync(() -> Proc.run(Duration.ofMinutes(4),
        RemapPaths.command("fio").toString(), "--name=bystander", "--ioengine=nbd", "--uri=" + served.uri("vm1"),
        "--rw=randwrite", "--bs=4k", "--size=8M", "--iodepth=16", "--loops=4", "--verify=crc32c",
        "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0"));
    Random random = new Random(42);
    List<Throwable> unexpected = new ArrayList<>();
    for (int round = 0; round < 200 && !fio.isDone(); round++) {
      try (RawClient c = new RawClient(served.socket)) {
        switch (round % 4) {
          case 0 -> { // pure noise, even before the greeting is read
            byte[] noise = new byte[1 + random.nextInt(4096)];
            random.nextBytes(noise);
            c.write(ByteBuffer.wrap(noise));
          }
          case 1 -> { // well-framed options with random numbers and data
            c.hello();
            byte[] data = new byte[random.nextInt(64)];
            random.nextBytes(data);
            c.sendOption(random.nextInt(16), data);
          }
          case 2 -> { // valid session, random requests, gone before the answers
            c.hello().go("vm1");
            for (int i = 0; i < 20; i++) {
              c.request(random.nextInt(1 << 16), random.nextInt(12), i, random.nextLong(), random.nextInt(1 << 16), null);
            }
          }
          default -> { // a write whose payload stops halfway, then the client vanishes
            c.hello().go("vm1");
            c.request(0, CMD_WRITE, 1, 12 << 20, 1 << 20, new byte[512 << 10]);
          }
        }
      } catch (java.io.IOException expectedSometimes) {
        // The server may hang up first: that is one of the right answers to garbage.
      } catch (RuntimeException e) {
        unexpected.add(e);
      }
    }
    Proc.Result result = fio.get(5, TimeUnit.MINUTES);
    assertThat(unexpected).isEmpty();
    assertThat(result.exitCode()).as(result.output()).isZero();
    assertThat(result.output()).contains("err= 0");
    // The server still serves, and the halfway write never happened.
    try (RawClient c = client()) {
      c.go("vm1");
      c.request(0, CMD_READ, 1, 12 << 20, 4096, null);
      Reply r = c.readReply();
      assertThat(r.error()).isZero();
      assertThat(Arrays.copyOfRange(r.data(), 8, r.data().length)).containsOnly(0);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (served.server.connectionCount() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(served.server.connectionCount()).isZero();
  }
}
