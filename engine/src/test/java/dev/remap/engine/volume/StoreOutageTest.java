package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.store.StoreUri;
import dev.remap.testkit.S3ServerProcess;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The S3 server goes away under writes: writes go on into the journal until it is full, then
 * wait (no error); when the server is back the backlog drains and nothing is lost.
 */
class StoreOutageTest {

  @TempDir Path tmp;

  @Test
  void writersWaitThroughAnOutageAndEverythingArrives() throws Exception {
    S3Credentials credentials = new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY);
    long size = 16L << 20;
    byte[] model = new byte[(int) size];
    new Random(7).nextBytes(model);
    try (S3ServerProcess s3 = S3ServerProcess.start(tmp.resolve("s3"))) {
      s3.createBucket("outage");
      VolumeOptions options = VolumeOptions.defaults(tmp.resolve("journal"))
          .withJournal(4 << 20, 1 << 20).withSegments(256 << 10, Duration.ofMillis(20), 8);
      try (ObjectStore store = ObjectStores.open(StoreUri.parse(s3.storeUri("outage", "")), credentials)) {
        VolumeManager volumes = new VolumeManager(store, options);
        volumes.create("vm", size, 4096, 64 << 10);
        try (Volume volume = volumes.open("vm")) {
          s3.stop();
          CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
              for (int at = 0; at < size; at += 64 << 10) {
                volume.write(at, ByteBuffer.wrap(model, at, 64 << 10), false);
              }
              volume.flush();
            } catch (Exception e) {
              throw new RuntimeException(e);
            }
          });
          // The journal (4 MiB) fills and the writer waits instead of failing.
          Thread.sleep(3000);
          assertThat(writer).as("the writer waits for journal space").isNotDone();
          VolumeStats during = volume.stats();
          assertThat(during.journalBytes()).isGreaterThan(3L << 20);
          assertThat(during.lastUploadError()).contains("cannot reach the S3 endpoint");

          s3.restart();
          writer.get(120, TimeUnit.SECONDS);
          volume.drain(Duration.ofMinutes(2));
          assertThat(volume.stats().uploadBacklogBytes()).isZero();
        }
      }
      // Everything is in the store: a fresh process with an empty journal folder reads it all.
      try (ObjectStore store = ObjectStores.open(StoreUri.parse(s3.storeUri("outage", "")), credentials);
          Volume reopened = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("other-node"))).open("vm")) {
        ByteBuffer all = ByteBuffer.allocate((int) size);
        reopened.read(0, all);
        assertThat(Arrays.mismatch(all.array(), model)).isEqualTo(-1);
      }
    }
  }
}
