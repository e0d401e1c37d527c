package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Images from {@link Ext4ImageBuilder} checked by e2fsprogs and read back by the reader. */
class Ext4ImageBuilderTest {

  private static final Instant CREATED = Instant.parse("2025-06-01T08:00:00Z");
  private static final String LONG = "x".repeat(250) + "ééé"; // 256 bytes in UTF-8

  @TempDir
  Path temp;

  private final List<ImageFile> files = new ArrayList<>();
  private final Map<String, byte[]> expected = new TreeMap<>();

  private void file(String path, long size) {
    int index = files.size();
    Instant modified = Instant.parse("2024-02-29T12:34:56.123456789Z").plusSeconds(86_400L * index);
    files.add(new ImageFile(List.of(path.split("/")), size, modified));
    expected.put(path, Ext4Tools.content(index, size));
  }

  private byte[] bytesOf(int index) {
    return expected.get(files.get(index).display());
  }

  private BuiltImage oddTree() {
    file("Ünïcødé fïlé ✓.txt", 1234);
    file("with space/a file.txt", 1);
    file("a/b/c/d/e/f/g/h/i/deep file.bin", 4095);
    file("sizes/empty", 0);
    file("sizes/4096", 4096);
    file("sizes/4097", 4097);
    file("sizes/big", 3 * 1024 * 1024 + 17);
    for (int i = 0; i < 300; i++) {
      file("many/entry number " + i + " " + "n".repeat(i % 40), 100 + i);
    }
    file("sizes/last", 4095);
    List<ImageFile> withSkipped = new ArrayList<>(files);
    withSkipped.add(new ImageFile(List.of(LONG), 10, CREATED));
    withSkipped.add(new ImageFile(List.of("ok", LONG, "under.txt"), 10, CREATED));
    List<List<String>> directories = List.of(List.of("empty folder"), List.of("with space"));
    BuiltImage image = new Ext4ImageBuilder().build(withSkipped, directories,
        new ImageSpec("Ünïcødé labél long", 0x1234abcd, 8L << 20, CREATED));
    assertThat(image.skipped()).extracting(BuiltImage.Skipped::file).containsExactly(files.size(), files.size() + 1);
    assertThat(image.skipped().get(0).reason()).contains(LONG, "256 bytes", "255");
    assertThat(image.skipped().get(1).reason()).contains("ok/" + LONG + "/under.txt", "256 bytes");
    return image;
  }

  @Test
  void e2fsckFindsNothingAndDebugfsDumpsTheTree() throws Exception {
    BuiltImage image = oddTree();
    Path img = temp.resolve("odd.img");
    ImageFixture.materialize(image, this::bytesOf, img);
    Ext4Tools.fsckClean(img);
    Path dump = temp.resolve("dump");
    Files.createDirectories(dump);
    Ext4Tools.ok("debugfs", "-R", "rdump / " + dump, img.toString());
    Map<String, byte[]> dumped = Ext4Tools.filesUnder(dump);
    assertThat(dumped.keySet()).containsExactlyElementsOf(expected.keySet());
    for (Map.Entry<String, byte[]> entry : expected.entrySet()) {
      assertThat(dumped.get(entry.getKey())).as(entry.getKey()).isEqualTo(entry.getValue());
    }
    assertThat(Ext4Tools.directoriesUnder(dump)).contains("empty folder", "a/b/c/d/e/f/g/h/i", "many")
        // A skipped file makes no folder.
        .doesNotContain("ok");
    assertThat(Files.list(dump.resolve("empty folder")).count()).isZero();
    // The label is cut to 16 bytes without splitting the 2-byte 'é' that straddles byte 16.
    assertThat(Ext4Tools.ok("blkid", "-s", "LABEL", "-o", "value", img.toString()).strip())
        .isEqualTo("Ünïcødé lab");
    assertThat(Ext4Tools.ok("blkid", "-s", "TYPE", "-o", "value", img.toString()).strip()).isEqualTo("ext4");
  }

  @Test
  void theKernelMountsItAndReadsEveryByte() throws Exception {
    BuiltImage image = oddTree();
    Path img = temp.resolve("odd.img");
    ImageFixture.materialize(image, this::bytesOf, img);
    Path mount = temp.resolve("mnt");
    try {
      Ext4Tools.mount(img, mount, false);
      Map<String, byte[]> seen = Ext4Tools.filesUnder(mount);
      assertThat(seen.keySet()).containsExactlyElementsOf(expected.keySet());
      for (Map.Entry<String, byte[]> entry : expected.entrySet()) {
        assertThat(seen.get(entry.getKey())).as(entry.getKey()).isEqualTo(entry.getValue());
      }
      assertThat(Files.getLastModifiedTime(mount.resolve("sizes/4097")).toInstant())
          .isEqualTo(files.get(5).modified());
      String free = Ext4Tools.ok("df", "-B1", "--output=avail", mount.toString());
      long available = Long.parseLong(free.lines().skip(1).findFirst().orElseThrow().strip());
      assertThat(available).as("free bytes").isGreaterThanOrEqualTo(8L << 20);
    } finally {
      Ext4Tools.unmount(mount);
    }
  }

  @Test
  void theReaderListsWhatTheBuilderLaidOut() throws Exception {
    BuiltImage image = oddTree();
    Path img = temp.resolve("odd.img");
    ImageFixture.materialize(image, this::bytesOf, img);
    ImageReader.Blocks blocks = ImageFixture.blocks(img);
    ImageReader.Listing listing = new Ext4ImageReader().list(blocks);
    Map<String, byte[]> read = Ext4Tools.filesOf(listing, blocks);
    assertThat(read.keySet()).containsExactlyElementsOf(expected.keySet());
    for (Map.Entry<String, byte[]> entry : expected.entrySet()) {
      assertThat(read.get(entry.getKey())).as(entry.getKey()).isEqualTo(entry.getValue());
    }
    Map<String, Instant> modified = new HashMap<>();
    for (ImageReader.FoundFile found : listing.files()) {
      modified.put(String.join("/", found.path()), found.modified());
    }
    for (ImageFile file : files) {
      assertThat(modified.get(file.display())).as(file.display()).isEqualTo(file.modified());
    }
    // Each file is one contiguous run where the builder placed it.
    for (ImageReader.FoundFile found : listing.files()) {
      if (found.size() > 0) {
        assertThat(found.extents()).as(String.join("/", found.path())).hasSize(1);
      }
    }
    assertThat(Ext4Tools.directoriesOf(listing)).containsExactlyInAnyOrder("with space", "a", "a/b", "a/b/c",
        "a/b/c/d", "a/b/c/d/e", "a/b/c/d/e/f", "a/b/c/d/e/f/g",
        "a/b/c/d/e/f/g/h", "a/b/c/d/e/f/g/h/i", "sizes", "many", "empty folder");
  }

  @Test
  void spansGroupsWithBackupsABigJournalAndAnExtentIndex() throws Exception {
    // 140 MiB crosses from group 0 into group 1 (which holds a superblock backup); 700 MiB crosses
    // five group starts, so more than four extents and an index block; with 1 GiB free the image
    // passes 1 GiB and gets the 32 MiB journal.
    file("first", 140L << 20);
    files.add(new ImageFile(List.of("huge"), 700L << 20, CREATED));
    file("tail", 4097);
    BuiltImage image = new Ext4ImageBuilder().build(files, List.of(), new ImageSpec("groups", 9, 1L << 30, CREATED));
    Path img = temp.resolve("groups.img");
    // The 700 MiB file's bytes are not written (e2fsck does not read file data); the others are.
    Ext4Tools.materializeWithout(image, this::bytesOf, 1, img);
    Ext4Tools.fsckClean(img);
    String header = Ext4Tools.ok("dumpe2fs", img.toString());
    assertThat(header).contains("Total journal size:       32M", "Backup superblock at 32768",
        "Backup superblock at 98304");
    assertThat(Ext4Tools.ok("debugfs", "-R", "stat /huge", img.toString())).contains("(ETB0)");
    ImageReader.Listing listing = new Ext4ImageReader().list(ImageFixture.blocks(img));
    for (ImageReader.FoundFile found : listing.files()) {
      int index = found.path().equals(List.of("first")) ? 0 : found.path().equals(List.of("huge")) ? 1 : 2;
      List<ImageReader.Extent> placed = new ArrayList<>();
      for (BuiltImage.Placement placement : image.placements()) {
        if (placement.file() == index) {
          placed.add(new ImageReader.Extent(placement.fileOffset(), placement.imageOffset(), placement.length()));
        }
      }
      assertThat(found.extents()).as(found.path().toString()).isEqualTo(placed);
      assertThat(found.size()).isEqualTo(files.get(index).size());
    }
    assertThat(listing.files().get(1).extents().size()).isGreaterThan(4);
    Path mount = temp.resolve("mnt");
    try {
      Ext4Tools.mount(img, mount, false);
      assertThat(Files.readAllBytes(mount.resolve("first"))).isEqualTo(bytesOf(0));
      assertThat(Files.readAllBytes(mount.resolve("tail"))).isEqualTo(bytesOf(2));
      assertThat(Files.size(mount.resolve("huge"))).isEqualTo(700L << 20);
    } finally {
      Ext4Tools.unmount(mount);
    }
  }

  @Test
  void skipsAFileLargerThanExt4Holds() {
    List<ImageFile> two = List.of(new ImageFile(List.of("too big.bin"), Ext4ImageBuilder.MAX_FILE + 1, CREATED),
        new ImageFile(List.of("fine.bin"), 10, CREATED));
    BuiltImage image = new Ext4ImageBuilder().build(two, List.of(), new ImageSpec("b", 2, 0, CREATED));
    assertThat(image.skipped()).hasSize(1);
    assertThat(image.skipped().get(0).file()).isZero();
    assertThat(image.skipped().get(0).reason()).contains("too big.bin", "more than");
    assertThat(image.placements()).extracting(BuiltImage.Placement::file).containsOnly(1);
    assertThat(image.size()).isLessThan(1L << 30);
  }

  @Test
  void metadataOfAThousandFilesIsUnderTwoPercentOfTheirBytes() {
    List<ImageFile> many = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      many.add(new ImageFile(List.of("folder " + i / 100, "file " + i + ".bin"), 256 * 1024, CREATED));
    }
    BuiltImage image = new Ext4ImageBuilder().build(many, List.of(), new ImageSpec("m", 1, 0, CREATED));
    long fileBytes = 1000L * 256 * 1024;
    double percent = 100.0 * image.metadataBytes() / fileBytes;
    System.out.printf("ext4: %d metadata bytes for %d file bytes (%.3f%%)%n", image.metadataBytes(), fileBytes,
        percent);
    assertThat(percent).isLessThan(2.0);
    ImageFixture.requireCovered(image, many);
  }
}
