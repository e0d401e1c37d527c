package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Garbage collection, export and import over the whole life of volumes and snapshots. */
class LifecycleTest {

  private static final long SIZE = 4L << 20;

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;

  @BeforeEach
  void setUp() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
        .withJournal(16 << 20, 4 << 20).withSegments(256 << 10, Duration.ofMillis(10), 2));
  }

  @AfterEach
  void tearDown() throws Exception {
    store.close();
  }

  private static byte[] random(int length, long seed) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] readAll(Volume volume) throws Exception {
    ByteBuffer all = ByteBuffer.allocate((int) volume.size());
    volume.read(0, all);
    return all.array();
  }

  private long segmentBytes() throws Exception {
    long total = 0;
    for (var info : store.list("segments/")) {
      total += info.size();
    }
    return total;
  }

  @Test
  void gcFreesOverwrittenDataAndKeepsWhatSnapshotsAndClonesNeed() throws Exception {
    volumes.create("vm", SIZE, 4096, 64 << 10);
    byte[] snapshotted;
    byte[] latest;
    try (Volume vm = volumes.open("vm")) {
      vm.write(0, ByteBuffer.wrap(random((int) SIZE, 1)), false);
      volumes.snapshot(vm, "s1");
      snapshotted = readAll(vm);
      for (int round = 2; round < 6; round++) {
        vm.write(0, ByteBuffer.wrap(random((int) SIZE, round)), false);
      }
      vm.drain(Duration.ofSeconds(30));
      latest = readAll(vm);
    }
    volumes.clone("vm", "s1", "vm-clone");
    long before = segmentBytes();
    GarbageCollector.Report report = new GarbageCollector(store, Duration.ZERO).run();
    assertThat(report.deleted()).isPositive();
    // How much of rounds 2-4 the uploader skipped (overwritten before it got to them) depends on
    // timing; what must be left after GC is the snapshot's round and the last one, plus headers.
    assertThat(segmentBytes()).as("rounds 2-4 were overwritten by round 5").isLessThan(before)
        .isLessThanOrEqualTo(2 * SIZE + SIZE / 8);

    volumes.delete("vm");
    volumes.deleteSnapshot("vm", "s1");
    new GarbageCollector(store, Duration.ZERO).run();
    try (Volume clone = volumes.open("vm-clone")) {
      assertThat(readAll(clone)).as("the clone outlives its source and the snapshot").isEqualTo(snapshotted);
    }
    assertThat(latest).isNotEqualTo(snapshotted);
    assertThat(segmentBytes()).as("only the clone's data is left").isLessThanOrEqualTo(SIZE + (256 << 10));
  }

  @Test
  void gcWhileAVolumeIsServedAndWrittenLosesNothing() throws Exception {
    volumes.create("vm", SIZE, 4096, 64 << 10);
    byte[] model = new byte[(int) SIZE];
    Random random = new Random(11);
    try (Volume vm = volumes.open("vm")) {
      for (int round = 0; round < 40; round++) {
        int length = 4096 * (1 + random.nextInt(64));
        int offset = 4096 * random.nextInt((int) (SIZE - length) / 4096);
        byte[] data = random(length, round);
        vm.write(offset, ByteBuffer.wrap(data), false);
        System.arraycopy(data, 0, model, offset, length);
        if (round % 5 == 0) {
          // Collect with no grace at all while uploads and checkpoints are going on.
          new GarbageCollector(store, Duration.ZERO).run();
        }
      }
      vm.drain(Duration.ofSeconds(30));
      new GarbageCollector(store, Duration.ZERO).run();
      assertThat(readAll(vm)).isEqualTo(model);
    }
    new GarbageCollector(store, Duration.ZERO).run();
    try (Volume vm = volumes.open("vm")) {
      assertThat(readAll(vm)).as("after reopening from what gc left").isEqualTo(model);
    }
  }

  @Test
  void gcLeavesYoungObjectsAlone() throws Exception {
    volumes.create("vm", SIZE, 4096, 64 << 10);
    try (Volume vm = volumes.open("vm")) {
      for (int round = 0; round < 3; round++) {
        vm.write(0, ByteBuffer.wrap(random((int) SIZE, round)), false);
      }
    }
    assertThat(new GarbageCollector(store, Duration.ofHours(1)).run().deleted()).isZero();
  }

  @Test
  void gcKeepsAnImportWhileAnyOfItsObjectsIsYoungAndCollectsAnAbandonedOne() throws Exception {
    // Two imports nothing references yet: one still copying (its newest object is fresh), one
    // abandoned long ago. Only the abandoned one goes, and all of it.
    Instant old = Instant.now().minus(Duration.ofHours(3));
    for (String key : List.of("imports/running/1.seg", "imports/abandoned/1.seg", "imports/abandoned/2.seg")) {
      store.put(key, ByteBuffer.wrap(random(4096, key.hashCode())));
      Files.setLastModifiedTime(tmp.resolve("store").resolve(key), FileTime.from(old));
    }
    store.put("imports/running/2.seg", ByteBuffer.wrap(random(4096, 2)));
    GarbageCollector.Report report = new GarbageCollector(store, Duration.ofHours(1)).run();
    assertThat(report.deleted()).isEqualTo(2);
    assertThat(store.list("imports/")).extracting(ObjectInfo::key)
        .containsExactlyInAnyOrder("imports/running/1.seg", "imports/running/2.seg");
  }

  @Test
  void anExportedSnapshotImportsIntoAnotherStoreAsAnEqualVolume() throws Exception {
    volumes.create("vm", SIZE, 512, 64 << 10);
    byte[] content;
    try (Volume vm = volumes.open("vm")) {
      vm.write(4096, ByteBuffer.wrap(random(1 << 20, 7)), false);
      vm.trim(8192, 4096, false);
      volumes.snapshot(vm, "golden");
      content = readAll(vm);
    }
    try (ObjectStore exported = FileObjectStore.open(tmp.resolve("export"));
        ObjectStore other = FileObjectStore.open(tmp.resolve("other"))) {
      long bytes = SnapshotTransfer.export(volumes, "vm", "golden", exported);
      assertThat(bytes).as("the live data (1 MiB written, 4 KiB trimmed before upload)").isGreaterThan((1 << 20) - 4096);
      assertThatThrownBy(() -> SnapshotTransfer.export(volumes, "vm", "golden", exported))
          .hasMessageContaining("an export already exists");
      VolumeManager elsewhere = new VolumeManager(other, VolumeOptions.defaults(tmp.resolve("journal2")));
      VolumeMeta imported = SnapshotTransfer.importVolume(exported, elsewhere, "vm-restored");
      assertThat(imported.geometry().blockSize()).isEqualTo(512);
      try (Volume restored = elsewhere.open("vm-restored")) {
        assertThat(readAll(restored)).isEqualTo(content);
      }
      assertThat(new GarbageCollector(other, Duration.ZERO).run().deleted()).as("imports are referenced").isZero();
      assertThatThrownBy(() -> SnapshotTransfer.importVolume(other, elsewhere, "x"))
          .hasMessageContaining("there is no export");
    }
  }
}
