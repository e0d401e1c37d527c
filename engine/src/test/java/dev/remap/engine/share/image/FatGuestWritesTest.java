package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.Proc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Another FAT implementation writes on our image as a guest would: mtools creates, overwrites,
 * deletes, moves and renames files, fills holes left by deleted files (so a new file is
 * fragmented) and fills a folder with 300 entries. fsck.vfat stays clean, and our reader lists
 * exactly what mtools copies out, with equal bytes and times.
 *
 * <p>This machine's kernel has no vfat driver (only ext*, xfs, btrfs, fuse...), so the brief's
 * read-write loop mount is replaced by mtools, the one FAT writer installed here.
 */
class FatGuestWritesTest {

  private static final Map<String, String> MTOOLS = Map.of("MTOOLS_SKIP_CHECK", "1", "LC_ALL", "C.UTF-8");

  @TempDir
  Path work;

  private Path image;

  @Test
  void readerSeesWhatAnotherWriterLeft() throws IOException {
    List<ImageFile> files = FatImageBuilderTest.oddTree().subList(0, 7);
    BuiltImage built = new FatImageBuilder().build(files, FatImageBuilderTest.oddDirectories(),
        FatImageBuilderTest.SPEC);
    image = work.resolve("disk.img");
    ImageFixture.materialize(built, i -> FatImageBuilderTest.content(files, i), image);

    Random random = new Random(42);
    mtools("mcopy", local("new file from the guest.txt", random, 10_000), "::/new file from the guest.txt");
    mtools("mcopy", "-o", local("photo 1.JPG", random, 5000), "::/photo 1.JPG");
    mtools("mdel", "::/block.bin");
    mtools("mmove", "::/Readme.md", "::/docs/Renamed read me.md");
    mtools("mren", "::/Ünïcødé fïlé ✓.txt", "::/Ünïcødé renamed ✓.txt");
    List<String> holes = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      mtools("mcopy", local("hole " + i, random, 3 * 4096 + 5), "::/hole " + i);
      if (i % 2 == 0) {
        holes.add("::/hole " + i);
      }
    }
    List<String> delete = new ArrayList<>(List.of("mdel"));
    delete.addAll(holes);
    mtools(delete.toArray(String[]::new));
    forgetNextFree();
    mtools("mcopy", local("fragmented.bin", random, 40 * 4096 + 99), "::/fragmented.bin");
    Path crowded = Files.createDirectories(work.resolve("local").resolve("crowded folder"));
    for (int i = 0; i < 300; i++) {
      byte[] bytes = new byte[i % 3 == 0 ? 0 : i];
      random.nextBytes(bytes);
      Files.write(crowded.resolve("a rather long entry name number " + i + ".txt"), bytes);
    }
    mtools("mcopy", "-s", crowded.toString(), "::/");
    mtools("mdel", "::/crowded folder/a rather long entry name number 17.txt");

    FatImageBuilderTest.requireFsckClean(image);
    Path out = Files.createDirectories(work.resolve("out"));
    mtools("mcopy", "-s", "-m", "::/", out.toString());
    TreeSet<String> seen = FatImageBuilderTest.tree(out);

    ImageReader.Blocks blocks = ImageFixture.blocks(image);
    ImageReader.Listing listing = new FatImageReader().list(blocks);
    TreeSet<String> listed = new TreeSet<>();
    listing.directories().forEach(d -> listed.add(String.join("/", d) + "/"));
    Map<String, ImageReader.FoundFile> found = new TreeMap<>();
    listing.files().forEach(f -> found.put(String.join("/", f.path()), f));
    listed.addAll(found.keySet());
    assertThat(listed).isEqualTo(seen);
    for (ImageReader.FoundFile file : found.values()) {
      Path copied = out.resolve(String.join("/", file.path()));
      assertThat(ImageFixture.read(blocks, file)).as(copied.toString()).isEqualTo(Files.readAllBytes(copied));
      assertThat(file.modified()).as(copied.toString()).isEqualTo(Files.getLastModifiedTime(copied).toInstant());
    }
    // The new file went into the holes the deleted ones left, so the reader followed a real chain.
    assertThat(found.get("fragmented.bin").extents().size()).isGreaterThan(1);
    assertThat(found.keySet()).doesNotContain("block.bin", "Readme.md", "hole 0")
        .contains("docs/Renamed read me.md", "Ünïcødé renamed ✓.txt", "hole 1");
    assertThat(found.keySet().stream().filter(p -> p.startsWith("crowded folder/"))).hasSize(299);
    assertThat(Files.readAllBytes(out.resolve("photo 1.JPG"))).hasSize(5000);
  }

  /** A local file of random bytes to copy in. */
  private String local(String name, Random random, int length) throws IOException {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    Path file = Files.createDirectories(work.resolve("src")).resolve(name);
    Files.write(file, bytes);
    return file.toString();
  }

  private void mtools(String... command) {
    List<String> args = new ArrayList<>(List.of(command[0], "-i", image.toString()));
    args.addAll(List.of(command).subList(1, command.length));
    Proc.run(FatImageBuilderTest.QUICK, MTOOLS, args).requireSuccess();
  }

  /**
   * Sets FSInfo's next-free hint to "unknown", as a guest that lost it leaves it: mtools then
   * allocates from cluster 2 and fills the holes (with the hint it would append past them).
   */
  private void forgetNextFree() throws IOException {
    try (FileChannel channel = FileChannel.open(image, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(new byte[] {-1, -1, -1, -1}), 512 + 492);
    }
  }
}
