package dev.remap.csi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.share.ContentStore;
import dev.remap.engine.share.ImageFormat;
import dev.remap.engine.share.ImageVolumes;
import dev.remap.engine.share.image.BuiltImage;
import dev.remap.engine.share.image.ImageFile;
import dev.remap.engine.share.image.ImageSpec;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.volume.SnapshotDevice;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import dev.remap.testkit.Proc;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's read cache of share disks, on a real node plugin: three VMs' clones of one share
 * group's disk, all mapping a 16 MiB file onto the same content object, have the file read
 * with qemu-img through the NBD exports the node serves its devices from. The node's own store counters
 * (remap_store_requests and remap_store_bytes, kind get, as /metrics shows them) tell what each
 * VM cost the store: the first VM fetches the file, the next two fetch none of it; with
 * --share-cache 0 each VM fetches it again; and a restarted plugin still has it.
 */
class ShareCacheNodeTest {

  private static final int FILE_BYTES = 16 << 20;
  /** The node's cache fetches whole blocks of this size: one GET, one block. */
  private static final int CACHE_BLOCK = 256 << 10;
  /**
   * More than a disk's own records (its volume record, checkpoint, lease: about 2 KiB) and less
   * than one cache block: a VM that read less than this from the store fetched no block of the file.
   */
  private static final long OWN_RECORDS = 64 << 10;
  private static final List<String> VMS = List.of("share-g1-vm-a", "share-g1-vm-b", "share-g1-vm-c");

  @TempDir Path tmp;
  private byte[] file;
  private BuiltImage image;

  @BeforeEach
  void threeShareDisksOfOneGroup() throws Exception {
    file = new byte[FILE_BYTES];
    new Random(11).nextBytes(file);
    Path local = tmp.resolve("video.mkv");
    Files.write(local, file);
    Instant created = Instant.parse("2026-01-01T00:00:00Z");
    image = ImageFormat.EXT4.builder().build(List.of(new ImageFile(List.of("Videos", "video.mkv"), FILE_BYTES, created)),
        List.of(), new ImageSpec("videos", 1, 8L << 20, created));
    try (FileObjectStore store = FileObjectStore.open(tmp.resolve("store"))) {
      ContentStore.Content content = new ContentStore(store, tmp.resolve("scratch")).put(local).content();
      VolumeManager builder = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("build-journal")));
      ImageVolumes.create(builder, "share-g1", image, List.of(content), "share:test/g1@1");
      MappingTable base;
      try (SnapshotDevice origin = builder.openOrigin("share-g1")) {
        base = origin.mapping();
      }
      for (String vm : VMS) {
        builder.createFrom(vm, base, "share:test/g1@1 for " + vm);
      }
    }
  }

  private CsiDriver node(long shareCache) throws Exception {
    // Cleaning off: nothing but the reads below goes to the store while they are counted.
    return CsiDriver.start(new DriverConfig(DriverConfig.Mode.NODE, tmp.resolve("csi.sock"), "node-a",
        "file://" + tmp.resolve("store"), tmp.resolve("journal"), tmp.resolve("state"), null, Duration.ZERO,
        Duration.ZERO, VolumeOptions.Cleaning.defaults().off(), null, null, null, null, 0, shareCache), "test");
  }

  /** What one VM's read of its whole disk cost the store. */
  private record Cost(long gets, long bytes) {}

  /**
   * Reads the file's part of vm's disk through the node's NBD server, as the VM would, and checks
   * its bytes. A range (qemu-img's raw driver over its NBD client): the export advertises the room
   * its disk may grow into, so a copy of the whole export would be far larger than the disk.
   */
  private Cost readFile(CsiDriver node, String vm) throws Exception {
    long gets = storeGets(node, "remap.store.requests");
    long bytes = storeGets(node, "remap.store.bytes");
    long from = image.placements().stream().mapToLong(BuiltImage.Placement::imageOffset).min().orElseThrow();
    long to = image.placements().stream().mapToLong(p -> p.imageOffset() + p.length()).max().orElseThrow();
    Path copy = tmp.resolve(vm + ".part");
    Proc.run(Duration.ofMinutes(2), "qemu-img", "convert", "-O", "raw", "--image-opts",
        "driver=raw,offset=" + from + ",size=" + (to - from) + ",file.driver=nbd,file.path="
            + tmp.resolve("state/nbd.sock") + ",file.export=" + vm, copy.toString()).requireSuccess();
    Cost cost = new Cost(storeGets(node, "remap.store.requests") - gets, storeGets(node, "remap.store.bytes") - bytes);
    try (FileChannel part = FileChannel.open(copy, StandardOpenOption.READ)) {
      for (BuiltImage.Placement run : image.placements()) {
        ByteBuffer found = ByteBuffer.allocate(Math.toIntExact(run.length()));
        part.read(found, run.imageOffset() - from);
        assertThat(found.array()).as("the file on %s at %d", vm, run.fileOffset())
            .isEqualTo(Arrays.copyOfRange(file, (int) run.fileOffset(), (int) (run.fileOffset() + run.length())));
      }
    }
    Files.delete(copy);
    return cost;
  }

  private static long storeGets(CsiDriver node, String meter) {
    FunctionCounter counter = node.metrics().find(meter).tag("kind", "get").functionCounter();
    assertThat(counter).as(meter).isNotNull();
    return (long) counter.count();
  }

  @Test
  void threeVmsOnOneNodeFetchTheFileFromTheStoreOnce() throws Exception {
    try (CsiDriver node = node(1L << 30)) {
      Cost first = readFile(node, VMS.get(0));
      Cost second = readFile(node, VMS.get(1));
      Cost third = readFile(node, VMS.get(2));
      System.out.println("node share cache: store GETs (bytes) per VM: " + first + ", " + second + ", " + third);

      assertThat(first.bytes()).as("the first VM fetches the file").isGreaterThanOrEqualTo(FILE_BYTES);
      assertThat(second.bytes()).as("the second VM fetches none of it").isLessThan(OWN_RECORDS);
      assertThat(third.bytes()).as("nor does the third").isLessThan(OWN_RECORDS);
      // One GET per block of the file, by the first VM only; the others' GETs are their disks' own
      // records, a handful (6 or 7 here: the lease's timing adds one), each far from the file's 64.
      int blocks = FILE_BYTES / CACHE_BLOCK;
      assertThat(first.gets()).isGreaterThanOrEqualTo(blocks);
      assertThat(second.gets()).isLessThan(blocks / 4);
      assertThat(third.gets()).isLessThan(blocks / 4);
      Gauge used = node.metrics().find("remap.share.cache.used.bytes").gauge();
      assertThat(used).isNotNull();
      assertThat((long) used.value()).isGreaterThanOrEqualTo(FILE_BYTES);
    }
    assertThat(tmp.resolve("state/share-cache")).isDirectoryContaining(p -> true);
  }

  @Test
  void withoutTheCacheEachVmFetchesTheFileAgain() throws Exception {
    try (CsiDriver node = node(0)) {
      for (String vm : VMS) {
        assertThat(readFile(node, vm).bytes()).as(vm).isGreaterThanOrEqualTo(FILE_BYTES);
      }
    }
    assertThat(tmp.resolve("state/share-cache")).doesNotExist();
  }

  @Test
  void theCacheOutlivesARestartOfThePluginAndGoesWhenTurnedOff() throws Exception {
    try (CsiDriver node = node(1L << 30)) {
      assertThat(readFile(node, VMS.get(0)).bytes()).isGreaterThanOrEqualTo(FILE_BYTES);
    }
    try (CsiDriver restarted = node(1L << 30)) {
      assertThat(readFile(restarted, VMS.get(1)).bytes()).as("after the restart").isLessThan(OWN_RECORDS);
    }
    // --share-cache 0 on the next start gives the folder's space back.
    try (CsiDriver off = node(0)) {
      assertThat(readFile(off, VMS.get(2)).bytes()).isGreaterThanOrEqualTo(FILE_BYTES);
    }
    assertThat(tmp.resolve("state/share-cache")).doesNotExist();
  }
}
