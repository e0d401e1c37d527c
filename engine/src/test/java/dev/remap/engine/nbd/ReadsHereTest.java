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
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection reads on its own thread only while its reads come from memory: with the volume's
 * segment files dropped from the page cache for real (posix_fadvise DONTNEED, through dd), its
 * reads there wait for the disk, and it hands them to the transfer workers (counted in
 * remap_reads_handed_over_total); every byte is right either way.
 */
class ReadsHereTest {

  private static final long SIZE = 128L << 20;

  @TempDir Path tmp;

  @Test
  void readsThatWaitForTheDiskGoToTheWorkersAndReadRight() throws Exception {
    byte[] data = new byte[(int) SIZE];
    new Random(9).nextBytes(data);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (ObjectStore store = FileObjectStore.open(tmp.resolve("store"))) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")));
      volumes.create("v", SIZE, 4096, 1 << 20);
      try (Volume v = volumes.open("v")) {
        v.write(0, ByteBuffer.wrap(data), false);
        v.drain(Duration.ofSeconds(60)); // in segments: a read goes to the segment files
      }
      dropFromPageCache(tmp.resolve("store"));
      // No RAM tier: every read goes below it, to the segment files (a file store: read locally).
      NbdServer.Options options = new NbdServer.Options(tmp.resolve("nbd.sock"), null, null, false, 0, 3, 16);
      try (NbdServer server = NbdServer.start(new VolumeExports(volumes), options, StackSpec.Chooser.DEFAULTS,
              new EngineMetrics(registry));
          RawClient client = new RawClient(options.socket()).hello()) {
        assertThat(client.go("v")).isEqualTo(SIZE);
        Random random = new Random(10);
        for (int burst = 0; burst < 16; burst++) {
          long[] offsets = new long[32];
          for (int i = 0; i < offsets.length; i++) {
            offsets[i] = random.nextInt((int) (SIZE / 4096)) * 4096L;
            client.request(0, CMD_READ, i, offsets[i], 4096, null);
          }
          for (int i = 0; i < offsets.length; i++) {
            RawClient.Reply reply = client.readReply();
            assertThat(reply.error()).isZero();
            int at = (int) offsets[(int) reply.handle()];
            // A structured read reply: offset (8 bytes), then the data.
            assertThat(Arrays.copyOfRange(reply.data(), 8, 8 + 4096)).isEqualTo(Arrays.copyOfRange(data, at, at + 4096));
          }
        }
      }
    }
    assertThat(registry.get("remap.reads.handed.over").tag("volume", "v").counter().count())
        .as("reads waited for the disk on the connection's thread, then went to the workers").isPositive();
  }

  /** Drops the folder's files from the page cache (written back first): their reads go to the disk. */
  private static void dropFromPageCache(Path dir) throws Exception {
    assertThat(new ProcessBuilder("sync").inheritIO().start().waitFor()).isZero();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    for (Path file : files) {
      Process dd = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0", "status=none").inheritIO().start();
      assertThat(dd.waitFor()).as("dd drops %s from the page cache", file).isZero();
    }
  }
}
