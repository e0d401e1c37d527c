package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.BlockDeviceContract;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A volume on the file store passes the block-device contract, and its store-level promises hold. */
class VolumeTest extends BlockDeviceContract {

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;

  @Override
  protected BlockDevice create() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    // Small segments and frequent checkpoints so that tests cross every path.
    VolumeOptions options = VolumeOptions.defaults(tmp.resolve("journal"))
        .withJournal(16 << 20, 4 << 20)
        .withSegments(256 << 10, Duration.ofMillis(20), 3)
        // Segments synced soon after they are written (10 s by default), so the journal empties soon too.
        .withSyncDelay(Duration.ofMillis(100));
    volumes = new VolumeManager(store, options);
    volumes.create("disk", SIZE, 4096, 64 << 10);
    return volumes.open("disk");
  }

  @Override
  protected BlockDevice reopen(BlockDevice device) throws Exception {
    device.close();
    return volumes.open("disk");
  }

  @AfterEach
  void closeStore() throws Exception {
    store.close();
  }

  private Volume volume() {
    return (Volume) device;
  }

  @Test
  void aLoneSmallWriteReachesTheStoreAfterTheUploadDelayWithoutAFlush() throws Exception {
    // Idle uploader, one 4 KiB write and nothing after it: the upload delay (20 ms here) must
    // still send it, or a VM that writes a little and idles keeps it in the journal indefinitely.
    device.write(0, ByteBuffer.wrap(random(4096, 1)), false);
    device.trim(1 << 20, 1 << 20, false);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (volume().stats().segmentsWritten() == 0 || volume().stats().uploadBacklogBytes() > 0
        || volume().stats().journalBytes() > 0) {
      assertThat(System.nanoTime()).as("uploaded within 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void writesReachTheStoreInLargeSegmentsAndTheJournalEmpties() throws Exception {
    for (int i = 0; i < 512; i++) {
      device.write((long) ((i * 37) % 2048) * 4096, ByteBuffer.wrap(random(4096, i)), false);
    }
    volume().drain(Duration.ofSeconds(30));
    VolumeStats stats = volume().stats();
    assertThat(stats.uploadBacklogBytes()).isZero();
    assertThat(stats.journalBytes()).isZero();
    assertThat(stats.segmentsWritten()).isBetween(8L, 12L);
    assertThat(store.list("segments/")).hasSize((int) stats.segmentsWritten());
    assertThat(store.list("checkpoints/")).hasSize(1);
  }

  @Test
  void aSnapshotKeepsItsContentAndACloneStartsFromItWithoutCopying() throws Exception {
    byte[] before = random(1 << 20, 10);
    device.write(0, ByteBuffer.wrap(before), false);
    VolumeManager.SnapshotInfo snap = volumes.snapshot(volume(), "s1");
    assertThat(snap.name()).isEqualTo("s1");
    long segmentsAtSnapshot = store.list("segments/").size();

    device.write(0, ByteBuffer.wrap(random(1 << 20, 11)), true);
    volumes.clone("disk", "s1", "copy");
    assertThat(store.list("segments/")).as("a clone copies no data").hasSizeGreaterThanOrEqualTo((int) segmentsAtSnapshot);
    try (Volume copy = volumes.open("copy")) {
      ByteBuffer read = ByteBuffer.allocate(1 << 20);
      copy.read(0, read);
      assertThat(read.array()).isEqualTo(before);
      copy.write(0, ByteBuffer.wrap(random(4096, 12)), true);
    }
    assertThat(read(0, 1 << 20)).isEqualTo(random(1 << 20, 11));
    try (SnapshotDevice frozen = volumes.openSnapshot("disk", "s1")) {
      ByteBuffer read = ByteBuffer.allocate(1 << 20);
      frozen.read(0, read);
      assertThat(read.array()).as("the snapshot still reads as it was").isEqualTo(before);
      assertThat(frozen.isReadOnly()).isTrue();
      assertThatThrownBy(() -> frozen.write(0, ByteBuffer.allocate(4096), false)).hasMessageContaining("read-only");
    }
    assertThat(volumes.snapshots("disk")).extracting(VolumeManager.SnapshotInfo::name).containsExactly("s1");
    assertThatThrownBy(() -> volumes.snapshot(volume(), "s1")).hasMessageContaining("disk@s1 already exists");
    assertThatThrownBy(() -> volumes.clone("disk", "nope", "x")).hasMessageContaining("disk@nope does not exist");
  }

  @Test
  void aServedVolumeCannotBeOpenedTwice() {
    assertThatThrownBy(() -> volumes.open("disk")).hasMessageContaining("in use by another process");
  }

  @Test
  void snapshotAndResizeByNameUseTheInstanceThisProcessServes() throws Exception {
    byte[] data = random(8192, 30);
    device.write(0, ByteBuffer.wrap(data), false);
    volumes.snapshot("disk", "by-name");
    try (SnapshotDevice frozen = volumes.openSnapshot("disk", "by-name")) {
      ByteBuffer read = ByteBuffer.allocate(8192);
      frozen.read(0, read);
      assertThat(read.array()).as("the snapshot has the unflushed write of the served volume").isEqualTo(data);
    }
    volumes.resize("disk", 2 * SIZE);
    assertThat(device.size()).as("the served volume grew").isEqualTo(2 * SIZE);
    device.close();
    device = null;
    volumes.snapshot("disk", "after-close");
    assertThat(volumes.snapshots("disk")).hasSize(2);
  }

  @Test
  void creatingATakenNameOrABadSizeFailsWithoutLeavingAnything() throws Exception {
    assertThatThrownBy(() -> volumes.create("disk", SIZE, 4096, 64 << 10)).hasMessageContaining("already exists");
    assertThatThrownBy(() -> volumes.create("odd", 1000, 512, 64 << 10)).hasMessageContaining("not a multiple");
    assertThatThrownBy(() -> volumes.create("../x", 4096, 512, 64 << 10)).hasMessageContaining("invalid");
    assertThat(volumes.list()).extracting(VolumeMeta::name).containsExactly("disk");
  }

  @Test
  void aVolumeGrowsWhileServedAndKeepsItsData() throws Exception {
    byte[] data = random(4096, 20);
    device.write(SIZE - 4096, ByteBuffer.wrap(data), true);
    volumes.resize(volume(), 2 * SIZE);
    assertThat(device.size()).isEqualTo(2 * SIZE);
    device.write(2 * SIZE - 4096, ByteBuffer.wrap(data), true);
    device = reopen(device);
    assertThat(device.size()).isEqualTo(2 * SIZE);
    assertThat(read(SIZE - 4096, 4096)).isEqualTo(data);
    assertThat(read(2 * SIZE - 4096, 4096)).isEqualTo(data);
    assertThatThrownBy(() -> volumes.resize(volume(), SIZE)).hasMessageContaining("can only grow");
  }
}
