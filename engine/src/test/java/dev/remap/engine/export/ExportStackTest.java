package dev.remap.engine.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.BlockDeviceContract;
import dev.remap.engine.nbd.NbdServer;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stack the NBD server serves a volume through, built the way it builds it (the seam, the
 * server's own stack settings with a small RAM tier), passes the contract.
 */
class ExportStackTest extends BlockDeviceContract {

  /** The server's defaults, with a RAM tier small enough to evict in these tests. */
  private static final StackSpec SPEC =
      NbdServer.Options.unix(Path.of("unused.sock")).stackDefaults().withRamCache(1 << 20);

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;

  @Override
  protected BlockDevice create() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
        .withJournal(32 << 20, 4 << 20).withSegments(512 << 10, Duration.ofMillis(20), 4));
    volumes.create("disk", SIZE, 4096, 64 << 10);
    return stack();
  }

  private BlockDevice stack() throws Exception {
    return ExportStack.build("disk", new VolumeExports(volumes).open("disk", SPEC).orElseThrow(), SPEC);
  }

  @Override
  protected BlockDevice reopen(BlockDevice device) throws Exception {
    device.close();
    return stack();
  }

  @AfterEach
  void closeStore() throws Exception {
    store.close();
  }

  @Test
  void repeatedReadsAreAnsweredFromRamAndWritesAreSeenAtOnce() throws Exception {
    ExportStack stack = (ExportStack) device;
    device.write(0, ByteBuffer.wrap(random(128 << 10, 1)), false);
    read(0, 128 << 10);
    long hits = stack.ramCounters().orElseThrow().hits();
    assertThat(read(4096, 8192)).isEqualTo(Arrays.copyOfRange(random(128 << 10, 1), 4096, 4096 + 8192));
    assertThat(stack.ramCounters().orElseThrow().hits()).isEqualTo(hits + 1);
    device.write(4096, ByteBuffer.wrap(random(4096, 2)), false);
    assertThat(read(4096, 4096)).isEqualTo(random(4096, 2));
    assertThat(stack.ramCounters().orElseThrow().usedBytes()).isLessThanOrEqualTo(1 << 20);
  }

  @Test
  void concurrentClientsOnDisjointRangesSeeTheirOwnData() throws Exception {
    // Through the asynchronous submits a connection uses, many requests in flight at once.
    ExportStack queue = (ExportStack) device;
    int clients = 8;
    int region = (int) (SIZE / clients);
    List<CompletableFuture<byte[]>> done = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      done.add(CompletableFuture.supplyAsync(() -> {
        byte[] model = new byte[region];
        Random random = new Random(client);
        for (int i = 0; i < 200; i++) {
          int length = 4096 * (1 + random.nextInt(8));
          int offset = 4096 * random.nextInt((region - length) / 4096);
          byte[] data = new byte[length];
          random.nextBytes(data);
          queue.submitWrite((long) client * region + offset, ByteBuffer.wrap(data), false).join();
          System.arraycopy(data, 0, model, offset, length);
        }
        ByteBuffer back = ByteBuffer.allocate(region);
        queue.submitRead((long) client * region, back).join();
        return Arrays.mismatch(back.array(), model) == -1 ? model : null;
      }));
    }
    for (CompletableFuture<byte[]> f : done) {
      assertThat(f.get()).as("a client's region reads back as it wrote it").isNotNull();
    }
    assertThat(queue.requestCounters().requests()[0]).as("every final read went through the queue").isEqualTo(clients);
  }
}
