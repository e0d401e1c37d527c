package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Ext4ImageReader} on what Linux writes: our image after the kernel's ext4 driver changed
 * it, and images mke2fs made with the features a distribution turns on.
 */
class Ext4ReaderTest {

  private static final Instant CREATED = Instant.parse("2025-01-02T03:04:05Z");

  @TempDir
  Path temp;

  private Path mount;

  @AfterEach
  void unmount() throws Exception {
    if (mount != null) {
      Ext4Tools.unmount(mount);
    }
  }

  @Test
  void listsWhatTheKernelLeftAfterAGuestChangedOurImage() throws Exception {
    List<ImageFile> files = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      files.add(new ImageFile(List.of("docs", "file " + i + ".txt"), 5000L * (i + 1), CREATED));
    }
    Path img = temp.resolve("guest.img");
    BuiltImage image = new Ext4ImageBuilder().build(files, List.of(), new ImageSpec("guest", 7, 64L << 20, CREATED));
    ImageFixture.materialize(image, i -> Ext4Tools.content(i, files.get(i).size()), img);
    mount = temp.resolve("mnt");
    Ext4Tools.mount(img, mount, true);
    Path docs = mount.resolve("docs");
    Files.write(mount.resolve("created ✓.txt"), Ext4Tools.content(100, 12345));
    Files.write(docs.resolve("file 1.txt"), Ext4Tools.content(101, 7000), StandardOpenOption.APPEND);
    Files.delete(docs.resolve("file 2.txt"));
    Files.createDirectories(mount.resolve("moved/here"));
    Files.move(docs.resolve("file 3.txt"), mount.resolve("moved/here/renamed 3.txt"));
    Files.move(docs.resolve("file 4.txt"), docs.resolve("file 4 renamed.txt"));
    // Two files growing in turn, each append forced to disk before the other's: their blocks
    // interleave, so each ends up in several extents.
    for (int round = 0; round < 8; round++) {
      for (String name : List.of("frag a", "frag b")) {
        try (FileChannel channel = FileChannel.open(mount.resolve(name), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
          channel.write(ByteBuffer.wrap(Ext4Tools.content(round * 2 + name.length(), 3 * 4096)));
          channel.force(true);
        }
      }
    }
    // Every other 4 KiB block written: 24 extents, more than an inode's 4, so an index block.
    try (FileChannel channel = FileChannel.open(mount.resolve("sparse"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE)) {
      for (int block = 0; block < 48; block += 2) {
        channel.write(ByteBuffer.wrap(Ext4Tools.content(block, 4096)), block * 4096L);
      }
      channel.force(true);
    }
    Files.createDirectories(mount.resolve("three hundred"));
    for (int i = 0; i < 300; i++) {
      Files.write(mount.resolve("three hundred/entry " + i + " ü"), Ext4Tools.content(1000 + i, i * 7));
    }
    Ext4Tools.ok("sync");
    Map<String, byte[]> seen = Ext4Tools.filesUnder(mount);
    List<String> seenDirectories = Ext4Tools.directoriesUnder(mount);
    Map<String, Instant> seenTimes = new HashMap<>();
    for (String path : seen.keySet()) {
      seenTimes.put(path, Files.getLastModifiedTime(mount.resolve(path)).toInstant());
    }
    Ext4Tools.unmount(mount);

    Ext4Tools.fsckClean(img);
    ImageReader.Blocks blocks = ImageFixture.blocks(img);
    ImageReader.Listing listing = new Ext4ImageReader().list(blocks);
    Map<String, byte[]> read = Ext4Tools.filesOf(listing, blocks);
    assertThat(read.keySet()).containsExactlyElementsOf(seen.keySet());
    for (Map.Entry<String, byte[]> entry : seen.entrySet()) {
      assertThat(read.get(entry.getKey())).as(entry.getKey()).isEqualTo(entry.getValue());
    }
    assertThat(Ext4Tools.directoriesOf(listing)).containsExactlyElementsOf(seenDirectories);
    Map<String, ImageReader.FoundFile> found = new HashMap<>();
    for (ImageReader.FoundFile file : listing.files()) {
      found.put(String.join("/", file.path()), file);
      assertThat(file.modified()).as(String.join("/", file.path()))
          .isEqualTo(seenTimes.get(String.join("/", file.path())));
    }
    assertThat(found).containsKeys("created ✓.txt", "moved/here/renamed 3.txt", "docs/file 4 renamed.txt")
        .doesNotContainKeys("docs/file 2.txt", "docs/file 3.txt");
    assertThat(found.get("docs/file 1.txt").size()).isEqualTo(10000 + 7000);
    assertThat(found.get("frag a").extents().size() + found.get("frag b").extents().size())
        .as("extents of the interleaved files").isGreaterThan(2);
    assertThat(found.get("sparse").extents()).hasSize(24);
    assertThat(Ext4Tools.ok("debugfs", "-R", "stat /sparse", img.toString()))
        .as("the sparse file's extent tree has an index level").contains("(ETB0)");
  }

  @Test
  void readsAnImageMke2fsMadeWithDirIndexFlexBgMetadataCsumAnd64bit() throws Exception {
    Path source = sourceTree();
    Path img = temp.resolve("mkfs.img");
    Ext4Tools.ok("mke2fs", "-q", "-F", "-t", "ext4", "-O", "dir_index,flex_bg,metadata_csum,64bit", "-E",
        "root_owner=0:0", "-d", source.toString(), img.toString(), "64M");
    assertThat(Ext4Tools.ok("dumpe2fs", "-h", img.toString()))
        .contains("dir_index", "flex_bg", "metadata_csum", "64bit");
    assertSameTree(source, img);
    // A folder the kernel grows past one block on a dir_index filesystem becomes hashed (htree);
    // its index blocks must read as empty entries.
    mount = temp.resolve("mnt");
    Ext4Tools.mount(img, mount, true);
    Files.createDirectories(mount.resolve("hashed"));
    Files.createDirectories(source.resolve("hashed"));
    for (int i = 0; i < 500; i++) {
      byte[] bytes = Ext4Tools.content(5000 + i, i);
      String name = "hashed/a long name to fill blocks quickly " + i;
      Files.write(mount.resolve(name), bytes);
      Files.write(source.resolve(name), bytes);
      // The same time on both sides, as the comparison checks modification times.
      FileTime time = FileTime.from(Instant.parse("2023-07-08T09:10:11.123456789Z").plusSeconds(i));
      Files.setLastModifiedTime(mount.resolve(name), time);
      Files.setLastModifiedTime(source.resolve(name), time);
    }
    Ext4Tools.unmount(mount);
    assertThat(Ext4Tools.ok("debugfs", "-R", "htree /hashed", img.toString())).contains("Root node dump");
    assertSameTree(source, img);
  }

  @Test
  void readsMetaBgDescriptorsAndTwoKilobyteBlocks() throws Exception {
    Path source = sourceTree();
    Path img = temp.resolve("metabg.img");
    Ext4Tools.ok("mke2fs", "-q", "-F", "-t", "ext4", "-b", "2048", "-O", "meta_bg,^resize_inode", "-d",
        source.toString(), img.toString(), "64M");
    assertThat(Ext4Tools.ok("dumpe2fs", "-h", img.toString())).contains("meta_bg");
    assertSameTree(source, img);
  }

  @Test
  void readsTheOldBlockMapOfExt3() throws Exception {
    Path source = sourceTree();
    Path img = temp.resolve("ext3.img");
    Ext4Tools.ok("mke2fs", "-q", "-F", "-t", "ext3", "-b", "1024", "-d", source.toString(), img.toString(), "64M");
    assertSameTree(source, img);
  }

  @Test
  void refusesWhatItCannotRead() throws Exception {
    Path zeros = temp.resolve("zeros.img");
    try (FileChannel channel = FileChannel.open(zeros, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.allocate(1), (1 << 20) - 1);
    }
    assertThatThrownBy(() -> new Ext4ImageReader().list(ImageFixture.blocks(zeros)))
        .isInstanceOf(IOException.class).hasMessageContaining("not an ext2/3/4 filesystem");
    Path inline = temp.resolve("inline.img");
    Ext4Tools.ok("mke2fs", "-q", "-F", "-t", "ext4", "-O", "inline_data", inline.toString(), "16M");
    assertThatThrownBy(() -> new Ext4ImageReader().list(ImageFixture.blocks(inline)))
        .isInstanceOf(IOException.class).hasMessageContaining("inline_data");
    // needs_recovery over an empty log (s_start 0) is no longer refused: the replay, which
    // Ext4JournalTest checks on real snapshots, finds nothing to do and the tree reads as is.
    Path dirty = temp.resolve("dirty.img");
    Path tree = temp.resolve("dirty tree");
    Files.createDirectories(tree.resolve("folder"));
    Files.write(tree.resolve("folder/file"), Ext4Tools.content(5, 6000));
    Ext4Tools.ok("mke2fs", "-q", "-F", "-t", "ext4", "-d", tree.toString(), dirty.toString(), "16M");
    Ext4Tools.ok("debugfs", "-w", "-R", "feature needs_recovery", dirty.toString());
    assertThat(Ext4Tools.ok("dumpe2fs", "-h", dirty.toString())).contains("needs_recovery");
    ImageReader.Blocks dirtyBlocks = ImageFixture.blocks(dirty);
    Ext4ImageReader.Read replayed = new Ext4ImageReader().read(dirtyBlocks);
    assertThat(replayed.journal().overlay()).isEmpty();
    assertThat(Ext4Tools.filesOf(replayed.listing(), dirtyBlocks))
        .containsOnlyKeys("folder/file").containsEntry("folder/file", Ext4Tools.content(5, 6000));
    // An external journal still to replay cannot be read: refused.
    Path external = temp.resolve("external.img");
    Ext4Tools.ok("mke2fs", "-q", "-F", "-t", "ext4", "-O", "^has_journal", external.toString(), "16M");
    Ext4Tools.ok("debugfs", "-w", "-R", "feature has_journal needs_recovery", external.toString());
    assertThatThrownBy(() -> new Ext4ImageReader().list(ImageFixture.blocks(external)))
        .isInstanceOf(IOException.class).hasMessageContaining("external journal");
    // A directory block overwritten with garbage is a damaged image, not a crash.
    Path img = temp.resolve("ours.img");
    List<ImageFile> one = List.of(new ImageFile(List.of("d", "f"), 10, CREATED));
    BuiltImage image = new Ext4ImageBuilder().build(one, List.of(), new ImageSpec("x", 1, 0, CREATED));
    ImageFixture.materialize(image, i -> new byte[10], img);
    // debugfs prints its banner first, then the block number.
    String bmap = Ext4Tools.ok("debugfs", "-R", "bmap /d 0", img.toString()).strip();
    long dirBlock = Long.parseLong(bmap.substring(bmap.lastIndexOf('\n') + 1));
    try (FileChannel channel = FileChannel.open(img, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(new byte[] {1, 0, 0, 0, 3, 0}), dirBlock * 4096);
    }
    assertThatThrownBy(() -> new Ext4ImageReader().list(ImageFixture.blocks(img)))
        .isInstanceOf(IOException.class).hasMessageContaining("damaged").hasMessageContaining("directory d");
  }

  /** Files of several sizes, a sparse one, deep and wide folders, odd names. */
  private Path sourceTree() throws IOException {
    Path source = temp.resolve("source");
    Files.createDirectories(source.resolve("deep/1/2/3/4/5/6/7/8"));
    Files.createDirectories(source.resolve("empty folder"));
    Files.createDirectories(source.resolve("wide"));
    Files.write(source.resolve("deep/1/2/3/4/5/6/7/8/leaf.txt"), Ext4Tools.content(1, 4097));
    Files.write(source.resolve("Ünïcødé fïlé ✓.txt"), Ext4Tools.content(2, 1));
    Files.write(source.resolve("empty"), new byte[0]);
    Files.write(source.resolve("big"), Ext4Tools.content(3, 3 * 1024 * 1024 + 5));
    for (int i = 0; i < 300; i++) {
      Files.write(source.resolve("wide/a rather long file name number " + i), Ext4Tools.content(10 + i, i * 13));
    }
    try (FileChannel channel = FileChannel.open(source.resolve("sparse"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(Ext4Tools.content(4, 100)), 5L << 20);
    }
    return source;
  }

  private static void assertSameTree(Path source, Path img) throws Exception {
    Ext4Tools.fsckClean(img);
    ImageReader.Blocks blocks = ImageFixture.blocks(img);
    ImageReader.Listing listing = new Ext4ImageReader().list(blocks);
    Map<String, byte[]> expected = Ext4Tools.filesUnder(source);
    Map<String, byte[]> read = Ext4Tools.filesOf(listing, blocks);
    assertThat(read.keySet()).containsExactlyElementsOf(expected.keySet());
    for (Map.Entry<String, byte[]> entry : expected.entrySet()) {
      assertThat(read.get(entry.getKey())).as(entry.getKey()).isEqualTo(entry.getValue());
    }
    assertThat(Ext4Tools.directoriesOf(listing)).containsExactlyElementsOf(Ext4Tools.directoriesUnder(source));
    for (ImageReader.FoundFile file : listing.files()) {
      Instant modified = Files.getLastModifiedTime(source.resolve(String.join("/", file.path()))).toInstant();
      assertThat(file.modified().getEpochSecond()).as(String.join("/", file.path()))
          .isEqualTo(modified.getEpochSecond());
    }
  }
}
