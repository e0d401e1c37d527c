package dev.remap.engine.share;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.cache.DiskCache;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.share.image.BuiltImage;
import dev.remap.engine.share.image.ImageFile;
import dev.remap.engine.share.image.ImageSpec;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.StoreMetrics;
import dev.remap.engine.volume.SnapshotDevice;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three VMs of one share group read the same file of their disks: each VM has its own
 * copy-on-write clone of the group's base disk, and all three clones map the file onto the same
 * content object. With one node-wide disk cache under the node's volumes the store is read once
 * per block of that object, however many VMs read it; without one, once per VM. The figures are
 * printed one line each, for docs/BENCHMARKS.md.
 */
class ShareReadCacheTest {

  private static final int FILE_BYTES = 16 << 20;
  /** The disk tier's block, as the CSI node's (NodeWiring) and `remap serve --cache-dir`'s. */
  private static final int CACHE_BLOCK = 256 << 10;
  /** The size of each read, about what a guest's readahead asks for at once. */
  private static final int READ_BYTES = 128 << 10;
  private static final List<String> VMS = List.of("share-g1-vm-a", "share-g1-vm-b", "share-g1-vm-c");

  @TempDir Path tmp;
  private FileObjectStore files;
  private CountingStore store;
  private byte[] file;
  /** Where the file lies on the disk: [image offset, length] of each of its runs. */
  private final List<long[]> runs = new ArrayList<>();

  @BeforeEach
  void threeClonesOfOneBaseDisk() throws IOException {
    files = FileObjectStore.open(tmp.resolve("store"));
    store = new CountingStore(files);
    file = new byte[FILE_BYTES];
    new Random(7).nextBytes(file);
    Path local = tmp.resolve("video.mkv");
    Files.write(local, file);
    ContentStore.Content content = new ContentStore(store, tmp.resolve("scratch")).put(local).content();

    BuiltImage image = ImageFormat.EXT4.builder().build(
        List.of(new ImageFile(List.of("Videos", "video.mkv"), FILE_BYTES, Instant.parse("2026-01-01T00:00:00Z"))),
        List.of(), new ImageSpec("videos", 1, 8L << 20, Instant.parse("2026-01-01T00:00:00Z")));
    assertThat(image.skipped()).isEmpty();
    for (BuiltImage.Placement placement : image.placements()) {
      runs.add(new long[] {placement.imageOffset(), placement.length(), placement.fileOffset()});
    }
    VolumeManager builder = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")));
    ImageVolumes.create(builder, "share-g1", image, List.of(content), "share:test/g1@1");
    MappingTable base;
    try (SnapshotDevice origin = builder.openOrigin("share-g1")) {
      base = origin.mapping();
    }
    for (String vm : VMS) {
      builder.createFrom(vm, base, "share:test/g1@1 for " + vm);
    }
  }

  @AfterEach
  void close() throws IOException {
    store.close();
  }

  /** Store GETs of content objects and GET bytes, after the first VM read the file and after all three. */
  private record Figures(long getsAfterOne, long bytesAfterOne, long getsAfterThree, long bytesAfterThree) {
    String line(String setting) {
      return String.format("share read, %s: 1 VM %d GETs %d bytes; 3 VMs %d GETs %d bytes", setting,
          getsAfterOne, bytesAfterOne, getsAfterThree, bytesAfterThree);
    }
  }

  /**
   * Opens the three VMs' disks through one manager (one node) reading store data through reader,
   * then reads the whole file through each in turn, checking its bytes.
   */
  private Figures readByThreeVms(Optional<DiskCache> cache) throws IOException {
    VolumeManager node = cache.isPresent()
        ? new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")), cache.get())
        : new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")));
    List<Volume> disks = new ArrayList<>();
    try {
      for (String vm : VMS) {
        disks.add(node.open(vm));
      }
      // Counted from here: opening a disk reads its own mapping, once per VM whatever the cache.
      store.reset();
      long bytesBefore = files.metrics().bytes(StoreMetrics.Operation.GET);
      long[] after = new long[4];
      for (int i = 0; i < disks.size(); i++) {
        readFile(disks.get(i));
        after[2 * Math.min(i, 1)] = store.reads(ContentStore.PREFIX);
        after[2 * Math.min(i, 1) + 1] = files.metrics().bytes(StoreMetrics.Operation.GET) - bytesBefore;
      }
      return new Figures(after[0], after[1], after[2], after[3]);
    } finally {
      for (Volume disk : disks) {
        disk.close();
      }
    }
  }

  /** Reads every run of the file in READ_BYTES requests, as a guest reading the file would. */
  private void readFile(Volume disk) throws IOException {
    for (long[] run : runs) {
      for (long done = 0; done < run[1]; done += READ_BYTES) {
        ByteBuffer dst = ByteBuffer.allocate((int) Math.min(READ_BYTES, run[1] - done));
        disk.read(run[0] + done, dst);
        int from = (int) (run[2] + done);
        assertThat(Arrays.equals(dst.array(), Arrays.copyOfRange(file, from, from + dst.capacity())))
            .as("bytes of the file at %d on %s", from, disk.name()).isTrue();
      }
    }
  }

  @Test
  void threeVmsReadABaseBlockFromTheStoreOnceWithOneNodeCacheAndThreeTimesWithout() throws IOException {
    Figures cached;
    try (DiskCache cache = new DiskCache(store, tmp.resolve("share-cache"), 1L << 30, CACHE_BLOCK)) {
      cached = readByThreeVms(Optional.of(cache));
    }
    Figures direct = readByThreeVms(Optional.empty());
    System.out.println(cached.line("one node-wide disk cache"));
    System.out.println(direct.line("no cache"));

    // One fetch per block of the content object, by the first VM; the others find every block cached.
    assertThat(cached.getsAfterOne()).isEqualTo(FILE_BYTES / CACHE_BLOCK);
    assertThat(cached.getsAfterThree()).isEqualTo(cached.getsAfterOne());
    assertThat(cached.bytesAfterThree()).isEqualTo(cached.bytesAfterOne()).isEqualTo(FILE_BYTES);
    // Without it every VM fetches the whole file again.
    assertThat(direct.getsAfterOne()).isPositive();
    assertThat(direct.getsAfterThree()).isEqualTo(3 * direct.getsAfterOne());
    assertThat(direct.bytesAfterThree()).isEqualTo(3L * FILE_BYTES);
  }

  @Test
  void theCacheFolderServesTheNextRunOfTheNodeWithoutTheStore() throws IOException {
    try (DiskCache first = new DiskCache(store, tmp.resolve("share-cache"), 1L << 30, CACHE_BLOCK)) {
      readByThreeVms(Optional.of(first));
    } // closing writes the blocks still in flight, as a node plugin stopping does
    // A restarted node plugin makes its cache again over the same folder: the blocks are still good
    // (content objects never change), so no VM goes to the store for the file.
    Figures restarted;
    try (DiskCache again = new DiskCache(store, tmp.resolve("share-cache"), 1L << 30, CACHE_BLOCK)) {
      restarted = readByThreeVms(Optional.of(again));
    }
    assertThat(restarted.getsAfterThree()).isZero();
    assertThat(restarted.bytesAfterThree()).isZero();
  }
}
