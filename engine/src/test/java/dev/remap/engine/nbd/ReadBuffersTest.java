package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.CMD_READ;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.export.StackSpec;
import dev.remap.engine.export.VolumeExports;
import dev.remap.engine.metrics.EngineMetrics;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Large reads go into kept direct buffers, which the wire gives back only once the socket has
 * taken them: a buffer given back while its reply still waits in the queue would be filled by
 * the next read and the client would get that read's bytes. A kept buffer is not zeroed, so a
 * hole read into one must still read as zeros.
 */
class ReadBuffersTest {

  private static final long SIZE = 96L << 20;
  /** The first half holds data, the rest is a hole. */
  private static final int WRITTEN = 48 << 20;

  @TempDir Path tmp;

  /**
   * Rounds of pipelined reads the client does not take until all are sent: every reply waits in
   * the server's queue (far more than the socket holds) while the next reads are served.
   * Lengths: 64 KiB reads are served on the connection's thread, 1 MiB ones by the workers (no
   * RAM tier) or from the RAM tier on the connection's thread.
   */
  @ParameterizedTest(name = "{0}-byte reads, RAM tier {1} MiB")
  @CsvSource({"65536, 0", "1048576, 0", "1048576, 64", "196608, 64"})
  void queuedRepliesKeepTheirBytesAndHolesReadAsZeros(int length, int ramMiB) throws Exception {
    byte[] data = new byte[WRITTEN];
    new Random(length + ramMiB).nextBytes(data);
    try (ObjectStore store = FileObjectStore.open(tmp.resolve("store"))) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")));
      volumes.create("v", SIZE, 4096, 1 << 20);
      try (Volume v = volumes.open("v")) {
        v.write(0, ByteBuffer.wrap(data), false);
      }
      NbdServer.Options options =
          new NbdServer.Options(tmp.resolve("nbd.sock"), null, null, false, (long) ramMiB << 20, 3, 16);
      try (NbdServer server = NbdServer.start(new VolumeExports(volumes), options, StackSpec.Chooser.DEFAULTS,
              new EngineMetrics(new SimpleMeterRegistry()));
          RawClient client = new RawClient(options.socket()).hello()) {
        assertThat(client.go("v")).isEqualTo(SIZE);
        Random random = new Random(7);
        int count = 40 * (1 << 20) / length; // 40 MiB a round: under the server's 64 MiB of queued replies
        for (int round = 0; round < 6; round++) {
          // Rounds alternate between data and the hole, so that holes are read into dirty buffers.
          long base = round % 2 == 0 ? 0 : WRITTEN;
          long[] offsets = new long[count];
          for (int i = 0; i < count; i++) {
            offsets[i] = base + (long) random.nextInt((WRITTEN - length) / 4096) * 4096;
            client.request(0, CMD_READ, i, offsets[i], length, null);
          }
          for (int i = 0; i < count; i++) {
            RawClient.Reply reply = client.readReply();
            assertThat(reply.error()).isZero();
            long at = offsets[(int) reply.handle()];
            byte[] expected = at >= WRITTEN ? new byte[length] : Arrays.copyOfRange(data, (int) at, (int) at + length);
            // A structured read reply: the offset (8 bytes), then the data.
            assertThat(Arrays.equals(reply.data(), 8, 8 + length, expected, 0, length))
                .as("round %d, read %d at %d", round, reply.handle(), at).isTrue();
          }
        }
      }
    }
  }

  @Test
  void aLentBufferGoesBackOnlyOnceTheSocketTookItAndOnCloseIfNot() throws Exception {
    Path socket = tmp.resolve("pair.sock");
    List<ByteBuffer> given = Collections.synchronizedList(new ArrayList<>());
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      listener.bind(UnixDomainSocketAddress.of(socket));
      try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
        Wire wire = new Wire(listener.accept(), given::add);
        List<ByteBuffer> sent = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
          while (b.hasRemaining()) {
            b.put((byte) i);
          }
          sent.add(b.flip());
          wire.send(List.of(ByteBuffer.wrap(new byte[] {(byte) i}), b), List.of(b));
        }
        // The socket holds a fraction of 8 MiB: the later buffers wait in the queue.
        assertThat(given).hasSizeLessThan(8);
        ByteBuffer got = ByteBuffer.allocate(8 * ((1 << 20) + 1));
        while (got.hasRemaining()) {
          client.read(got);
          if (wire.hasPending()) {
            wire.await(false, System.nanoTime() + 10_000_000_000L); // the reader thread's part: the queue
          }
        }
        assertThat(given).as("every buffer back once the client took it").hasSize(8);
        assertThat(given).allSatisfy(b -> assertThat(sent).anyMatch(s -> s == b));
        got.flip();
        for (int i = 0; i < 8; i++) {
          for (int k = 0; k < (1 << 20) + 1; k++) {
            if (got.get() != (byte) i) {
              throw new AssertionError("reply " + i + " byte " + k + " changed");
            }
          }
        }

        given.clear();
        ByteBuffer unsent = ByteBuffer.allocateDirect(4 << 20);
        wire.send(List.of(unsent), List.of(unsent));
        assertThat(given).as("4 MiB do not fit the socket").isEmpty();
        wire.close();
        assertThat(given).as("given back when the queue is dropped").containsExactly(unsent);
        given.clear();
        ByteBuffer late = ByteBuffer.allocateDirect(1 << 20);
        wire.send(List.of(late), List.of(late));
        assertThat(given).as("given back at once to a closed wire").containsExactly(late);
      }
    }
  }

  @Test
  void keptBuffersAreReusedUpToTheirBound() {
    ReadBuffers buffers = new ReadBuffers(3L << 20);
    ByteBuffer small = buffers.take(4096);
    assertThat(small.isDirect()).isFalse();
    assertThat(ReadBuffers.lent(small)).isFalse();
    ByteBuffer a = buffers.take(1 << 20);
    ByteBuffer b = buffers.take((1 << 20) - 4096);
    assertThat(a.isDirect()).isTrue();
    assertThat(b.capacity()).isEqualTo(1 << 20);
    assertThat(b.limit()).isEqualTo((1 << 20) - 4096);
    ByteBuffer c = buffers.take(3 << 20);
    assertThat(c.capacity()).isEqualTo(4 << 20);
    buffers.give(a);
    buffers.give(b);
    buffers.give(c); // past the 3 MiB bound: dropped
    assertThat(buffers.keptBytes()).isEqualTo(2 << 20);
    ByteBuffer again = buffers.take(600 << 10);
    assertThat(again.capacity()).isEqualTo(1 << 10 << 10);
    assertThat(again == a || again == b).isTrue();
    assertThat(again.position()).isZero();
    assertThat(again.limit()).isEqualTo(600 << 10);
    assertThat(buffers.keptBytes()).isEqualTo(1 << 20);
    buffers.give(small); // a heap buffer is never kept
    assertThat(buffers.keptBytes()).isEqualTo(1 << 20);
  }

  /** A pool full of one size makes room for another: else every read of it would be a new buffer. */
  @Test
  void aBufferOfAnotherSizeDisplacesKeptOnes() {
    ReadBuffers buffers = new ReadBuffers(2L << 20);
    List<ByteBuffer> quarter = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      quarter.add(buffers.take(256 << 10));
    }
    quarter.forEach(buffers::give);
    assertThat(buffers.keptBytes()).isEqualTo(2 << 20);
    ByteBuffer whole = buffers.take(1 << 20);
    buffers.give(whole);
    assertThat(buffers.keptBytes()).as("four 256 KiB buffers dropped for it").isEqualTo(2 << 20);
    assertThat(buffers.take(1 << 20)).isSameAs(whole);
    assertThat(quarter).contains(buffers.take(256 << 10));
    ByteBuffer huge = buffers.take(4 << 20);
    buffers.give(huge);
    assertThat(buffers.keptBytes()).as("larger than the bound: not kept, the others stay").isEqualTo(768 << 10);
  }
}
