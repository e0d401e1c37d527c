package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.export.StackSpec;
import dev.remap.engine.nbd.RawClient.OptionReply;
import dev.remap.engine.nbd.RawClient.Reply;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exports come and go with the store's volumes; connections to one export share one stack that
 * the last connection closes; a graceful stop answers what is in flight and syncs the journals.
 */
class ExportLifecycleTest {

  private static final long SIZE = 8 << 20;

  @TempDir Path tmp;

  private static List<String> list(RawClient c) throws Exception {
    List<String> names = new ArrayList<>();
    for (OptionReply r : c.option(OPT_LIST, new byte[0])) {
      if (r.type() == REP_SERVER) {
        ByteBuffer d = ByteBuffer.wrap(r.data());
        int length = d.getInt();
        names.add(new String(r.data(), 4, length, StandardCharsets.UTF_8));
      }
    }
    return names;
  }

  private static int info(RawClient c, String export) throws Exception {
    List<OptionReply> replies = c.option(OPT_INFO, RawClient.exportQuery(export));
    return replies.get(replies.size() - 1).type();
  }

  private static byte[] read(RawClient c, long offset, int length) throws Exception {
    c.request(0, CMD_READ, offset, offset, length, null);
    Reply r = c.readReply();
    assertThat(r.error()).isZero();
    return Arrays.copyOfRange(r.data(), 8, r.data().length);
  }

  private static void write(RawClient c, long offset, byte value, int length) throws Exception {
    byte[] data = new byte[length];
    Arrays.fill(data, value);
    c.request(0, CMD_WRITE, offset, offset, length, data);
    assertThat(c.readReply().error()).isZero();
  }

  @Test
  void volumesCreatedClonedAndDeletedWhileServingAppearAndDisappear() throws Exception {
    try (ServedStore served = ServedStore.start(tmp).volume("vm1", SIZE)) {
      try (RawClient c = new RawClient(served.socket).hello()) {
        assertThat(list(c)).containsExactly("vm1");
        served.volume("vm2", SIZE);
        assertThat(list(c)).containsExactlyInAnyOrder("vm1", "vm2");
        assertThat(info(c, "vm2")).isEqualTo(REP_ACK);
      }
      try (RawClient c = new RawClient(served.socket).hello()) {
        c.go("vm1");
        write(c, 0, (byte) 7, 65536);
        c.request(0, CMD_FLUSH, 1, 0, 0, null);
        assertThat(c.readReply().error()).isZero();
        // Served, so locked: another user of the store cannot delete it under the clients.
        assertThatThrownBy(() -> served.volumes.delete("vm1")).hasMessageContaining("in use");
      }
      awaitNoConnections(served);
      // The last connection closed the stack: the volume is free again for store operations.
      served.volumes.snapshot("vm1", "s1");
      served.volumes.clone("vm1", "s1", "vm3");
      try (RawClient c = new RawClient(served.socket).hello()) {
        assertThat(list(c)).containsExactlyInAnyOrder("vm1", "vm1@s1", "vm2", "vm3");
        c.go("vm3");
        assertThat(read(c, 0, 65536)).containsOnly(7);
      }
      awaitNoConnections(served);
      served.volumes.delete("vm3");
      try (RawClient c = new RawClient(served.socket).hello()) {
        assertThat(list(c)).containsExactlyInAnyOrder("vm1", "vm1@s1", "vm2");
        assertThat(info(c, "vm3")).isEqualTo(REP_ERR_UNKNOWN);
      }
    }
  }

  @Test
  void anExportCanHaveItsOwnRamCacheSizeFromItsNextOpening() throws Exception {
    // What a node does with a volume class's cache size: the spec is chosen when the export opens.
    Map<String, Long> ramSizes = new ConcurrentHashMap<>();
    StackSpec.Chooser stacks = (name, defaults) ->
        ramSizes.containsKey(name) ? defaults.withRamCache(ramSizes.get(name)) : defaults;
    try (ServedStore served = ServedStore.start(tmp, stacks).volume("small", SIZE).volume("none", SIZE)
        .volume("usual", SIZE)) {
      ramSizes.put("small", 1L << 20);
      ramSizes.put("none", 0L);
      for (String export : List.of("small", "none", "usual")) {
        try (RawClient c = new RawClient(served.socket).hello()) {
          c.go(export);
          read(c, 0, 65536);
          read(c, 0, 65536);
          var ram = served.server.ramCache(export);
          switch (export) {
            case "small" -> assertThat(ram).get().satisfies(r -> {
              assertThat(r.capacityBytes()).isEqualTo(1 << 20);
              assertThat(r.hits()).as("the second read came from RAM").isPositive();
            });
            case "none" -> assertThat(ram).as("no RAM tier at all").isEmpty();
            default -> assertThat(ram).get().extracting(r -> r.capacityBytes()).isEqualTo(64L << 20);
          }
        }
        awaitNoConnections(served);
        assertThat(served.server.ramCache(export)).as("closed with its last connection").isEmpty();
      }
      ramSizes.remove("small");
      try (RawClient c = new RawClient(served.socket).hello()) {
        c.go("small");
        assertThat(served.server.ramCache("small")).get().extracting(r -> r.capacityBytes()).isEqualTo(64L << 20);
      }
    }
  }

  @Test
  void connectionsToOneExportShareOneCoherentStackOpenedOnce() throws Exception {
    try (ServedStore served = ServedStore.start(tmp).volume("vm1", SIZE)) {
      List<CompletableFuture<RawClient>> opening = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        opening.add(CompletableFuture.supplyAsync(() -> {
          try {
            RawClient c = new RawClient(served.socket).hello();
            c.go("vm1");
            return c;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }));
      }
      List<RawClient> clients = new ArrayList<>();
      for (CompletableFuture<RawClient> f : opening) {
        clients.add(f.get(30, TimeUnit.SECONDS));
      }
      try {
        RawClient a = clients.get(0);
        RawClient b = clients.get(1);
        for (int round = 1; round <= 5; round++) {
          assertThat(read(b, 0, 4096)).containsOnly(round - 1); // cached by b's read ...
          write(a, 0, (byte) round, 4096);                      // ... invalidated by a's write
          assertThat(read(b, 0, 4096)).containsOnly(round);
        }
      } finally {
        for (RawClient c : clients) {
          c.close();
        }
      }
    }
  }

  @Test
  void aGracefulStopAnswersEveryRequestThatArrivedAndLeavesTheWrittenOnesDurable() throws Exception {
    ServedStore served = ServedStore.start(tmp).volume("vm1", SIZE);
    int count = 200;
    List<Integer> written = new ArrayList<>();
    try (RawClient c = new RawClient(served.socket).hello()) {
      c.go("vm1");
      for (int i = 0; i < count; i++) {
        byte[] data = new byte[16384];
        Arrays.fill(data, (byte) (i + 1));
        c.request(0, CMD_WRITE, i, (long) i * 16384, 16384, data);
      }
      CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> {
        try {
          served.close();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      // Every request gets an answer: done, or ESHUTDOWN for those the stop came before.
      for (int i = 0; i < count; i++) {
        Reply reply = c.readReply();
        assertThat(reply.error()).isIn(0, ESHUTDOWN);
        if (reply.error() == 0) {
          written.add((int) reply.handle());
        }
      }
      stopping.get(60, TimeUnit.SECONDS);
      assertThat(c.closedByServer()).isTrue();
    }
    assertThat(written).isNotEmpty();
    try (ObjectStore store = FileObjectStore.open(tmp.resolve("store"));
         Volume volume = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))).open("vm1")) {
      for (int i : written) {
        ByteBuffer back = ByteBuffer.allocate(16384);
        volume.read((long) i * 16384, back);
        assertThat(back.array()).containsOnly(i + 1);
      }
    }
  }

  private static void awaitNoConnections(ServedStore served) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (served.server.connectionCount() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(served.server.connectionCount()).isZero();
  }
}
