package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.CMD_READ;
import static dev.remap.engine.nbd.NbdProtocol.CMD_WRITE;
import static dev.remap.engine.nbd.NbdProtocol.REPLY_FLAG_DONE;
import static dev.remap.engine.nbd.NbdProtocol.REPLY_TYPE_OFFSET_DATA;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two NBD servers for one store, standing for two nodes, each with a client connected to the
 * same volume for the whole test (a VM's disk on the source and on the target of a live
 * migration): whichever client sends a request gets the volume, and what the other wrote is what
 * it reads — also where its server's RAM cache held the old data of that block.
 */
class NbdHandoverTest {

  private long handle;

  @Test
  void clientsOfTwoServersSeeEachOthersWritesThroughTheirRamCaches(@TempDir Path tmp) throws Exception {
    try (ObjectStore store = FileObjectStore.open(tmp.resolve("store"))) {
      VolumeManager a = manager(store, tmp, "node-a");
      VolumeManager b = manager(store, tmp, "node-b");
      a.create("vm", 16L << 20, 4096, 64 << 10);
      try (NbdServer serverA = NbdServer.start(new dev.remap.engine.export.VolumeExports(a), NbdServer.Options.unix(tmp.resolve("a.sock")));
           NbdServer serverB = NbdServer.start(new dev.remap.engine.export.VolumeExports(b), NbdServer.Options.unix(tmp.resolve("b.sock")));
           RawClient onA = new RawClient(tmp.resolve("a.sock")).hello();
           RawClient onB = new RawClient(tmp.resolve("b.sock")).hello()) {
        onA.go("vm");
        onB.go("vm");

        write(onA, 0, filled(0x11, 64 << 10));
        assertThat(read(onA, 0, 64 << 10)).isEqualTo(filled(0x11, 64 << 10));
        assertThat(read(onA, 0, 64 << 10)).as("now from A's RAM cache").isEqualTo(filled(0x11, 64 << 10));
        assertThat(serverA.ramCache("vm").orElseThrow().hits()).isPositive();

        assertThat(read(onB, 0, 64 << 10)).as("B reads what A wrote").isEqualTo(filled(0x11, 64 << 10));
        write(onB, 0, filled(0x22, 4096));

        byte[] expected = filled(0x11, 64 << 10);
        Arrays.fill(expected, 0, 4096, (byte) 0x22);
        assertThat(read(onA, 0, 64 << 10)).as("A reads B's write, not its cached page").isEqualTo(expected);
        write(onA, 8192, filled(0x33, 4096));
        Arrays.fill(expected, 8192, 12288, (byte) 0x33);
        assertThat(read(onB, 0, 64 << 10)).isEqualTo(expected);
      }
    }
  }

  private static VolumeManager manager(ObjectStore store, Path tmp, String node) {
    return new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal-" + node))
        .withJournal(16 << 20, 4 << 20)
        .withNode(node)
        .withLease(Duration.ofMillis(600), Duration.ofSeconds(20)));
  }

  private void write(RawClient client, long offset, byte[] data) throws IOException {
    client.request(0, CMD_WRITE, ++handle, offset, data.length, data);
    RawClient.Reply reply = client.readReply();
    assertThat(reply.error()).as("write error").isZero();
  }

  private byte[] read(RawClient client, long offset, int length) throws IOException {
    client.request(0, CMD_READ, ++handle, offset, length, null);
    byte[] out = new byte[length];
    while (true) {
      RawClient.Reply reply = client.readReply();
      assertThat(reply.error()).as("read error").isZero();
      if (reply.type() == REPLY_TYPE_OFFSET_DATA) {
        ByteBuffer data = ByteBuffer.wrap(reply.data());
        long at = data.getLong();
        data.get(out, (int) (at - offset), data.remaining());
      }
      if ((reply.flags() & REPLY_FLAG_DONE) != 0) {
        return out;
      }
    }
  }

  private static byte[] filled(int value, int length) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }
}
