package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Ext4ImageReader} on snapshots of a filesystem the kernel still has mounted: the newest
 * metadata is committed in the journal but not yet at home, so only a replay shows it.
 *
 * <p>Changes are committed by fsync (of the changed files and of a marker file), not by `sync`:
 * `sync` also writes the block device's dirty buffers, i.e. every committed block's home, which
 * leaves nothing for a replay to do. The mounts use commit=600 so the kernel's timer adds no
 * transaction of its own and every commit is one the test made. The reader's result is checked
 * against the mount's view at the commit and against e2fsck's own replay of a second copy.
 */
class Ext4JournalTest {

  private static final Instant CREATED = Instant.parse("2025-03-04T05:06:07Z");
  private static final String QUIET = "commit=600";

  @TempDir
  Path temp;

  private Path mount;
  /** Commits made, so each marker append differs. */
  private int commits;

  @AfterEach
  void unmount() throws Exception {
    if (mount != null) {
      Ext4Tools.unmount(mount);
    }
  }

  @Test
  void replaysCreatesAppendsRenamesAndDeletesTheGuestCommitted() throws Exception {
    Path img = ourImage();
    mount(img, QUIET);
    guestChanges();
    Ext4Tools.Tree seen = Ext4Tools.Tree.of(mount);
    Path copy = snapshotAndUnmount(img);

    Ext4ImageReader.Read read = assertReplayed(copy, seen, 4096);
    assertThat(read.listing().files()).extracting(f -> String.join("/", f.path()))
        .contains("created ✓.txt", "moved/here/renamed 3.txt").doesNotContain("docs/file 2.txt");
    assertSameAsE2fsck(copy, read);
  }

  @Test
  void replaysManyTransactionsOnAFilesystemWith64BitAndChecksumV3Journal() throws Exception {
    Path source = temp.resolve("source");
    for (int i = 0; i < 6; i++) {
      Files.createDirectories(source.resolve("docs"));
      Files.write(source.resolve("docs/file " + i + ".txt"), Ext4Tools.content(i, 5000L * (i + 1)));
    }
    // 1 KiB blocks: the superblock shares block 1 with nothing, descriptors start at block 2.
    Path img = temp.resolve("mkfs.img");
    Ext4Tools.ok("mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-O", "64bit,metadata_csum", "-E",
        "root_owner=0:0", "-d", source.toString(), img.toString(), "64M");
    mount(img, QUIET);
    guestChanges();
    Files.createDirectories(mount.resolve("two hundred"));
    for (int i = 0; i < 200; i++) {
      write("two hundred/small " + i, Ext4Tools.content(3000 + i, 100 + i * 3), false);
      if (i % 40 == 39) {
        Files.delete(mount.resolve("two hundred/small " + (i - 20)));
        commit();
      }
    }
    Ext4Tools.Tree seen = Ext4Tools.Tree.of(mount);
    Path copy = snapshotAndUnmount(img);

    assertThat(Ext4Tools.ok("dumpe2fs", "-h", copy.toString())).contains("journal_64bit", "journal_checksum_v3");
    Ext4ImageReader.Read read = assertReplayed(copy, seen, 1024);
    assertThat(read.journal().transactions).isGreaterThanOrEqualTo(6);
    assertSameAsE2fsck(copy, read);
  }

  @Test
  void doesNotReplayBlocksRevokedByALaterTransaction() throws Exception {
    Path img = ourImage(4L << 20);
    mount(img, QUIET);
    // A folder big enough to own several directory blocks, committed: its blocks are journaled.
    Files.createDirectories(mount.resolve("doomed"));
    for (int i = 0; i < 150; i++) {
      write("doomed/a name long enough to need several directory blocks " + i, new byte[] {(byte) i}, false);
    }
    commit();
    // Deleting it frees its directory blocks, which the journal revokes; a file filling the disk
    // then takes those blocks, and an old directory block replayed over them would corrupt it.
    for (int i = 0; i < 150; i++) {
      Files.delete(mount.resolve("doomed/a name long enough to need several directory blocks " + i));
    }
    Files.delete(mount.resolve("doomed"));
    commit();
    fill("filler");
    commit();
    Ext4Tools.Tree seen = Ext4Tools.Tree.of(mount);
    Path copy = snapshotAndUnmount(img);

    Ext4ImageReader.Read read = assertReplayed(copy, seen, 4096);
    assertThat(read.journal().revoked).as("revoked blocks").isNotEmpty();
    // The case revokes exist for: a revoked block reused, here for a new file's bytes.
    List<Long> reused = new ArrayList<>();
    for (ImageReader.FoundFile file : read.listing().files()) {
      for (ImageReader.Extent extent : file.extents()) {
        for (long at = 0; at < extent.length(); at += 4096) {
          if (read.journal().revoked.contains((extent.imageOffset() + at) / 4096)) {
            reused.add((extent.imageOffset() + at) / 4096);
          }
        }
      }
    }
    assertThat(reused).as("revoked blocks now holding file bytes").isNotEmpty();
    assertThat(read.listing().directories()).doesNotContain(List.of("doomed"));
    assertSameAsE2fsck(copy, read);
  }

  @Test
  void leavesOutATransactionWhoseCommitBlockIsMissing() throws Exception {
    Path img = ourImage();
    mount(img, QUIET);
    guestChanges();
    Ext4Tools.Tree before = Ext4Tools.Tree.of(mount);
    // The last transaction, committed by one fsync (any fsync of a changed file commits all that
    // is pending): a file gone, one renamed, a folder and a file made.
    Files.delete(mount.resolve("created ✓.txt"));
    Files.move(mount.resolve("docs/file 0.txt"), mount.resolve("docs/file 0 moved.txt"));
    Files.createDirectories(mount.resolve("late folder"));
    Files.write(mount.resolve("late folder/late.txt"), Ext4Tools.content(77, 5000));
    commit();
    Path copy = snapshotAndUnmount(img);

    List<Long> commitBlocks = Ext4Tools.commitBlocks(copy);
    assertThat(commitBlocks).as("commit blocks").hasSizeGreaterThanOrEqualTo(2);
    Ext4Tools.zeroJournalBlock(copy, commitBlocks.get(commitBlocks.size() - 1));
    Ext4ImageReader.Read read = assertReplayed(copy, before, 4096);
    assertThat(read.journal().transactions).isEqualTo(commitBlocks.size() - 1);
    assertSameAsE2fsck(copy, read);
  }

  @Test
  void pointsAtFileBytesJournaledAsDataAndRefusesEscapedOnes() throws Exception {
    Path img = ourImage();
    mount(img, QUIET + ",data=journal");
    write("journaled data.bin", Ext4Tools.content(90, 6 * 4096 + 100), false);
    write("docs/file 1.txt", Ext4Tools.content(91, 9000), true);
    commit();
    Ext4Tools.Tree seen = Ext4Tools.Tree.of(mount);
    Path copy = snapshotAndUnmount(img);

    Ext4ImageReader.Read read = assertReplayed(copy, seen, 4096);
    ImageReader.FoundFile file = read.listing().files().stream()
        .filter(f -> f.path().equals(List.of("journaled data.bin"))).findFirst().orElseThrow();
    long journalStart = Ext4Tools.journalOffset(copy, 0);
    assertThat(file.extents()).as("extents in the journal").anyMatch(e -> e.imageOffset() >= journalStart
        && e.imageOffset() < journalStart + 4096L * 4096);
    assertSameAsE2fsck(copy, read);

    // A data block that begins with the journal's magic is stored with those bytes zeroed.
    Path again = ourImage();
    mount(again, QUIET + ",data=journal");
    byte[] magic = Ext4Tools.content(92, 8192);
    ByteBuffer.wrap(magic).putInt(Ext4Journal.MAGIC);
    write("escaped.bin", magic, false);
    commit();
    Path escaped = snapshotAndUnmount(again);
    assertThatThrownBy(() -> new Ext4ImageReader().list(ImageFixture.blocks(escaped)))
        .isInstanceOf(IOException.class).hasMessageContaining("escaped.bin").hasMessageContaining("escaped");
  }

  /**
   * Random guest work over many small transactions; then the same snapshot with a random earlier
   * commit block zeroed, where the replay must stop as e2fsck's does.
   */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void replaysRandomWorkAndStopsWhereE2fsckStops(long seed) throws Exception {
    Random random = new Random(seed);
    Path img = ourImage();
    mount(img, QUIET);
    List<String> files = new ArrayList<>();
    List<String> folders = new ArrayList<>(List.of("docs"));
    for (int i = 0; i < 6; i++) {
      files.add("docs/file " + i + ".txt");
    }
    for (int op = 0; op < 80; op++) {
      String folder = folders.get(random.nextInt(folders.size()));
      int choice = files.isEmpty() ? 0 : random.nextInt(6);
      switch (choice) {
        case 0 -> {
          files.add(folder + "/new " + op);
          write(files.get(files.size() - 1), Ext4Tools.content(op, random.nextInt(20000)), false);
        }
        case 1 -> write(files.get(random.nextInt(files.size())), Ext4Tools.content(op, random.nextInt(9000)), true);
        case 2 -> {
          String renamed = folder + "/renamed " + op;
          Files.move(mount.resolve(files.remove(random.nextInt(files.size()))), mount.resolve(renamed));
          files.add(renamed);
        }
        case 3 -> Files.delete(mount.resolve(files.remove(random.nextInt(files.size()))));
        case 4 -> {
          folders.add(folder + "/folder " + op);
          Files.createDirectories(mount.resolve(folders.get(folders.size() - 1)));
        }
        default -> commit();
      }
    }
    commit();
    Ext4Tools.Tree seen = Ext4Tools.Tree.of(mount);
    Path copy = snapshotAndUnmount(img);
    assertSameAsE2fsck(copy, assertReplayed(copy, seen, 4096));

    List<Long> commitBlocks = Ext4Tools.commitBlocks(copy);
    int kept = 1 + random.nextInt(commitBlocks.size() - 1);
    Ext4Tools.zeroJournalBlock(copy, commitBlocks.get(kept));
    Ext4ImageReader.Read cut = new Ext4ImageReader().read(ImageFixture.blocks(copy));
    assertThat(cut.journal().transactions).isEqualTo(kept);
    assertSameAsE2fsck(copy, cut);
  }

  // --- the guest's side --------------------------------------------------------------------

  private Path ourImage() throws IOException {
    return ourImage(32L << 20);
  }

  private Path ourImage(long freeSpace) throws IOException {
    List<ImageFile> files = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      files.add(new ImageFile(List.of("docs", "file " + i + ".txt"), 5000L * (i + 1), CREATED));
    }
    Path img = Files.createTempFile(temp, "ours", ".img");
    BuiltImage image = new Ext4ImageBuilder().build(files, List.of(), new ImageSpec("journal", 3, freeSpace, CREATED));
    ImageFixture.materialize(image, i -> Ext4Tools.content(i, files.get(i).size()), img);
    return img;
  }

  private void mount(Path img, String options) throws Exception {
    if (mount != null) {
      Ext4Tools.unmount(mount);
    }
    mount = temp.resolve("mnt");
    Ext4Tools.mount(img, mount, options);
  }

  /** Creates, appends, renames and deletes files and folders, over several commits. */
  private void guestChanges() throws IOException {
    Files.createDirectories(mount.resolve("docs"));
    write("created ✓.txt", Ext4Tools.content(100, 12345), false);
    write("docs/file 1.txt", Ext4Tools.content(101, 7000), true);
    commit();
    Files.delete(mount.resolve("docs/file 2.txt"));
    Files.createDirectories(mount.resolve("moved/here"));
    Files.createDirectories(mount.resolve("empty folder"));
    Files.move(mount.resolve("docs/file 3.txt"), mount.resolve("moved/here/renamed 3.txt"));
    Files.move(mount.resolve("docs/file 4.txt"), mount.resolve("docs/file 4 renamed.txt"));
    write("moved/new.bin", Ext4Tools.content(102, 70000), false);
    commit();
  }

  /** Writes (or appends) and fsyncs, so the bytes are allocated and on disk before a commit. */
  private void write(String path, byte[] bytes, boolean append) throws IOException {
    Path file = mount.resolve(path);
    Files.createDirectories(file.getParent());
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.write(ByteBuffer.wrap(bytes));
      channel.force(true);
    }
  }

  /** Writes a file until the disk is full, then fsyncs it. */
  private void fill(String path) throws IOException {
    try (FileChannel channel = FileChannel.open(mount.resolve(path), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE)) {
      try {
        for (int i = 0; ; i++) {
          channel.write(ByteBuffer.wrap(Ext4Tools.content(i, 64 * 1024)));
        }
      } catch (IOException full) {
        assertThat(full).hasMessageContaining("No space left");
      }
      channel.force(true);
    }
  }

  /**
   * Commits the running transaction (renames and deletes included) by fsyncing a file changed in
   * it: jbd2 commits whole transactions. (Every fsync of a written file commits as well.)
   */
  private void commit() throws IOException {
    write("commit marker", new byte[] {(byte) commits}, true);
    commits++;
  }

  /** Copies the image while still mounted, as a snapshot of a live disk, then unmounts. */
  private Path snapshotAndUnmount(Path img) throws Exception {
    Path copy = Files.createTempFile(temp, "snapshot", ".img");
    Files.copy(img, copy, StandardCopyOption.REPLACE_EXISTING);
    Ext4Tools.unmount(mount);
    return copy;
  }

  // --- the checks ----------------------------------------------------------------------------

  /** The reader lists exactly the tree seen, and a replay of stale home blocks was needed. */
  private Ext4ImageReader.Read assertReplayed(Path copy, Ext4Tools.Tree seen, int blockSize) throws Exception {
    assertThat(Ext4Tools.ok("dumpe2fs", "-h", copy.toString())).contains("needs_recovery");
    ImageReader.Blocks blocks = ImageFixture.blocks(copy);
    Ext4ImageReader.Read read = new Ext4ImageReader().read(blocks);
    assertListed(read, blocks, seen, false);
    assertThat(read.journalReads()).as("blocks read from the journal").isPositive();
    assertThat(staleHomes(blocks, read.journal(), blockSize)).as("home blocks older than their journal copy")
        .isPositive();
    assertThat(read.journal().transactions).as("transactions, as debugfs logdump counts them")
        .isEqualTo(Ext4Tools.commitBlocks(copy).size());
    return read;
  }

  /** The listing holds exactly the tree's files (bytes, mtimes) and directories. */
  private static void assertListed(Ext4ImageReader.Read read, ImageReader.Blocks blocks, Ext4Tools.Tree tree,
      boolean wholeSeconds) throws IOException {
    Map<String, byte[]> files = Ext4Tools.filesOf(read.listing(), blocks);
    assertThat(files.keySet()).containsExactlyElementsOf(tree.files().keySet());
    for (Map.Entry<String, byte[]> entry : tree.files().entrySet()) {
      assertThat(files.get(entry.getKey())).as(entry.getKey()).isEqualTo(entry.getValue());
    }
    assertThat(Ext4Tools.directoriesOf(read.listing())).containsExactlyElementsOf(tree.directories());
    for (ImageReader.FoundFile file : read.listing().files()) {
      String path = String.join("/", file.path());
      Instant expected = tree.times().get(path);
      assertThat(wholeSeconds ? Instant.ofEpochSecond(file.modified().getEpochSecond()) : file.modified())
          .as(path).isEqualTo(expected);
    }
  }

  /** How many overlaid blocks differ at home: what a reader without replay would get wrong. */
  private static int staleHomes(ImageReader.Blocks blocks, Ext4Journal journal, int blockSize) throws IOException {
    int stale = 0;
    for (Map.Entry<Long, Ext4Journal.Copy> entry : journal.overlay().entrySet()) {
      ByteBuffer home = ByteBuffer.allocate(blockSize);
      ByteBuffer copy = ByteBuffer.allocate(blockSize);
      blocks.read(entry.getKey() * blockSize, home);
      blocks.read(entry.getValue().imageOffset(), copy);
      if (entry.getValue().escaped()) {
        copy.putInt(0, Ext4Journal.MAGIC);
      }
      stale += Arrays.equals(home.array(), copy.array()) ? 0 : 1;
    }
    return stale;
  }

  /** e2fsck replays a second copy; its tree (dumped by debugfs) equals the reader's listing. */
  private void assertSameAsE2fsck(Path copy, Ext4ImageReader.Read read) throws Exception {
    Path replayed = Files.createTempFile(temp, "replayed", ".img");
    Files.copy(copy, replayed, StandardCopyOption.REPLACE_EXISTING);
    Ext4Tools.Result result = Ext4Tools.run("e2fsck", "-fy", replayed.toString());
    // Exit 1: it fixed something, at least the free counts a mounted filesystem keeps in memory.
    assertThat(result.exit()).as("e2fsck -fy said:%n%s", result.output()).isBetween(0, 1);
    assertThat(result.output()).contains("recovering journal");
    Ext4Tools.fsckClean(replayed);
    Path dump = Files.createTempDirectory(temp, "dump");
    Ext4Tools.ok("debugfs", "-R", "rdump / " + dump, replayed.toString());
    // rdump keeps whole seconds only.
    assertListed(read, ImageFixture.blocks(copy), Ext4Tools.Tree.of(dump), true);
  }
}
