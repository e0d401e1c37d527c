package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.testkit.PowerCutMount;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A FLUSH answered at once because the volume says nothing is left to wait for ({@link
 * Volume#flushedAlready}) promises what a flush promises: every write answered before it survives
 * a power cut (the powercut FUSE filesystem under the store and the journal, {@link
 * PowerCutMount}). A writer writes blocks one by one, flushes now and then, and asks after every
 * write whether a FLUSH would be answered at once; the newest write it was told yes for is the
 * floor. Uploads run meanwhile, so records leave the journal for segments written without fsync.
 * After the cut every block up to the floor must read back as written. The test fails if the
 * answer was never yes, or if it said yes for a write no sync had covered (the cut drops those; a
 * file overwritten without fsync just before it must read as before, or the cut proved nothing).
 */
class FlushedAlreadyPowerCutTest {

  private static final int BLOCK = 4096;
  private static final int BLOCKS = 1024;
  private static final String VOLUME = "flushed";
  private static final byte[] SYNCED = "synced before the cut".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] UNSYNCED = "written after, never".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(PowerCutMount.Model.class)
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aFlushAnsweredAtOnceCoversEveryWriteAnsweredBeforeIt(PowerCutMount.Model model) throws Exception {
    Path backing = Files.createDirectories(tmp.resolve("backing"));
    Path mounted = Files.createDirectories(tmp.resolve("mnt"));
    byte[][] written = new byte[BLOCKS][];
    int floor = -1;
    int yes = 0;
    int lastFlush = -1;
    Random random = new Random(model.ordinal() + 41);
    try (PowerCutMount mount = PowerCutMount.mount(backing, mounted, model)) {
      ObjectStore store = FileObjectStore.open(mounted.resolve("store"));
      VolumeManager volumes = new VolumeManager(store, LazySegmentPowerCutWriter.options(mounted.resolve("journal")));
      volumes.create(VOLUME, (long) BLOCKS * BLOCK, BLOCK, 64 << 10);
      Volume volume = volumes.open(VOLUME);
      for (int i = 0; i < BLOCKS; i++) {
        written[i] = new byte[BLOCK];
        random.nextBytes(written[i]);
        volume.write((long) i * BLOCK, ByteBuffer.wrap(written[i]), false);
        if (random.nextInt(8) == 0) {
          volume.flush();
          lastFlush = i;
        }
        if (volume.flushedAlready()) {
          floor = i;
          yes++;
        } else if (lastFlush == i) {
          throw new AssertionError("a flush that just returned left something to wait for at block " + i);
        }
      }
      Path canary = mounted.resolve("canary");
      PowerCutTest.writeDurably(canary, SYNCED);
      PowerCutTest.overwriteWithoutSync(canary, UNSYNCED);
      mount.cut();
      abandon(volume, volumes, store);
    }
    assertThat(yes).as("writes after which a FLUSH would have been answered at once").isPositive();
    try (PowerCutMount mount = PowerCutMount.mount(backing, mounted, model);
        ObjectStore store = FileObjectStore.open(mounted.resolve("store"))) {
      VolumeManager volumes = new VolumeManager(store, LazySegmentPowerCutWriter.options(mounted.resolve("journal")));
      assertThat(Files.readAllBytes(mounted.resolve("canary"))).as("a file overwritten without fsync before the cut")
          .isEqualTo(SYNCED);
      try (Volume volume = volumes.open(VOLUME)) {
        ByteBuffer back = ByteBuffer.allocate(BLOCK);
        for (int i = 0; i < BLOCKS; i++) {
          back.clear();
          volume.read((long) i * BLOCK, back);
          if (i <= floor) {
            assertThat(java.util.Arrays.equals(back.array(), written[i]))
                .as("block %d, at or below the floor %d (%s)", i, floor, model).isTrue();
          }
        }
      } finally {
        volumes.stopCollecting();
      }
    }
  }

  /** After the cut every file system call fails: closes what it can, each try bounded. */
  private static void abandon(Volume volume, VolumeManager volumes, ObjectStore store) throws InterruptedException {
    Thread closer = new Thread(() -> {
      for (AutoCloseable c : new AutoCloseable[] {volume, store}) {
        try {
          c.close();
        } catch (Exception afterTheCut) {
          // the mount answers EIO now
        }
      }
      volumes.stopCollecting();
    }, "close-after-cut");
    closer.setDaemon(true);
    closer.start();
    closer.join(TimeUnit.SECONDS.toMillis(20));
  }
}
