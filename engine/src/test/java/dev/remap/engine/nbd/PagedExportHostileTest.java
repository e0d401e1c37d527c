package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.export.ExportSources;
import dev.remap.engine.swap.PagePool;
import dev.remap.engine.swap.SwapDisk;
import dev.remap.engine.swap.SwapExports;
import dev.remap.engine.swap.SwapSpec;
import dev.remap.testkit.Await;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients misbehaving on a paged export (a swap disk), whose requests are served on the
 * connection's own thread straight into and out of pool pages: pages handed to a payload that
 * never comes go back to the pool, a refused payload is skipped so the stream stays in step,
 * and a client that never reads its replies holds only its own connection.
 */
class PagedExportHostileTest {

  private static final long SIZE = 16L << 20;

  @TempDir Path tmp;
  private PagePool pool;
  private SwapExports exports;
  private SwapDisk disk;
  private NbdServer server;

  @BeforeEach
  void serve() throws Exception {
    pool = new PagePool(64L << 20);
    exports = new SwapExports(pool);
    disk = exports.create(new SwapSpec("swap1", SIZE, SIZE, Optional.empty(), true, Optional.empty()));
    server = NbdServer.start(ExportSources.of(exports), NbdServer.Options.unix(tmp.resolve("nbd.sock")));
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    exports.close();
  }

  private RawClient client() throws Exception {
    return new RawClient(tmp.resolve("nbd.sock")).hello();
  }

  private static byte[] filled(int length, int value) {
    byte[] b = new byte[length];
    Arrays.fill(b, (byte) value);
    return b;
  }

  @Test
  void aClientVanishingMidPayloadGivesItsPagesBackAndChangesNothing() throws Exception {
    try (RawClient c = client()) {
      c.go("swap1");
      c.request(0, CMD_WRITE, 1, 0, 1 << 20, filled(1 << 20, 0x11));
      assertThat(c.readReply().error()).isZero();
    }
    long inUse = pool.pagesInUse();
    try (RawClient c = client()) {
      c.go("swap1");
      ByteBuffer header = ByteBuffer.allocate(REQUEST_HEADER).putInt(REQUEST_MAGIC).putShort((short) 0)
          .putShort((short) CMD_WRITE).putLong(2).putLong(0).putInt(1 << 20);
      c.write(header.flip());
      c.write(ByteBuffer.wrap(filled(300 << 10, 0x22)));
    }
    Await.until("the half-received write's pages are back in the pool", Duration.ofSeconds(10),
        () -> pool.pagesInUse() == inUse);
    try (RawClient c = client()) {
      c.go("swap1");
      c.request(0, CMD_READ, 3, 0, 1 << 20, null);
      RawClient.Reply reply = c.readReply();
      assertThat(reply.error()).isZero();
      assertThat(Arrays.copyOfRange(reply.data(), 8, reply.data().length)).containsOnly(0x11);
    }
    assertThat(disk.counters().swapOuts()).isEqualTo(256);
  }

  @Test
  void aWriteWithNoRoomIsRefusedAndItsPayloadSkippedSoTheNextRequestIsUnderstood() throws Exception {
    exports.create(new SwapSpec("tight", SIZE, 4L << 20, Optional.of(new SwapSpec.Spill(tmp, 4L << 20)), true,
        Optional.empty()));
    try (RawClient c = client()) {
      c.go("tight");
      c.request(0, CMD_WRITE, 1, 0, 4 << 20, filled(4 << 20, 0x33));
      assertThat(c.readReply().error()).isZero();
      c.request(0, CMD_WRITE, 2, 4L << 20, 3 << 20, filled(3 << 20, 0x44));
      assertThat(c.readReply().error()).isZero();
      // The memoryLimit and the spill tier hold 8 MiB less the page kept for loads: no room for 8 MiB more.
      c.request(0, CMD_WRITE, 3, 8L << 20, 8 << 20, filled(8 << 20, 0x55));
      RawClient.Reply refused = c.readReply();
      assertThat(refused.error()).isEqualTo(ENOSPC);
      assertThat(new String(refused.data(), 6, refused.data().length - 6)).contains("swap disk tight");
      c.request(0, CMD_READ, 4, 4096, 4096, null);
      RawClient.Reply read = c.readReply();
      assertThat(read.error()).isZero();
      assertThat(Arrays.copyOfRange(read.data(), 8, read.data().length)).containsOnly(0x33);
    }
  }

  @Test
  void aClientThatNeverReadsItsRepliesHoldsOnlyItsOwnConnection() throws Exception {
    try (RawClient c = client()) {
      c.go("swap1");
      c.request(0, CMD_WRITE, 1, 0, 4 << 20, filled(4 << 20, 0x66));
      assertThat(c.readReply().error()).isZero();
    }
    long inUse = pool.pagesInUse();
    try (RawClient greedy = client(); RawClient other = client()) {
      greedy.go("swap1");
      other.go("swap1");
      for (int i = 0; i < 64; i++) {
        greedy.request(0, CMD_READ, i, 0, 4 << 20, null);
      }
      for (int i = 0; i < 32; i++) {
        other.request(0, CMD_WRITE, i, (4L << 20) + i * 4096L, 4096, filled(4096, 0x77));
        assertThat(other.readReply().error()).isZero();
        other.request(0, CMD_READ, 100 + i, 4096L * i, 4096, null);
        RawClient.Reply read = other.readReply();
        assertThat(Arrays.copyOfRange(read.data(), 8, read.data().length)).containsOnly(0x66);
      }
    }
    // The greedy client's pinned pages are let go when its connection ends.
    Await.until("pages held for unsent replies are released", Duration.ofSeconds(10),
        () -> pool.pagesInUse() == inUse + 32);
  }
}
