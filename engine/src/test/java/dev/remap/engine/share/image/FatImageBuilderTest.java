package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree with the names and sizes that trip FAT up, built, written out as the share would write
 * it, then checked with the tools a user has: fsck.vfat finds nothing, mtools copies out exactly
 * the tree with equal bytes, the label and serial show in fatlabel and blkid; and our reader
 * lists the same tree.
 */
class FatImageBuilderTest {

  static final Duration QUICK = Duration.ofSeconds(60);
  static final Instant CREATED = Instant.parse("2024-03-01T10:20:30Z");
  static final ImageSpec SPEC = new ImageSpec("My share: docs", 0x1234ABCD, 8L << 20, CREATED);

  @TempDir
  Path work;

  /** The odd tree; indexes that FAT must skip are in skippedIndexes(). */
  static List<ImageFile> oddTree() {
    Instant t = Instant.parse("2023-07-14T08:09:11.340Z");
    List<ImageFile> files = new ArrayList<>();
    files.add(file(1, t, "photo 1.JPG"));
    files.add(file(4095, t.plusSeconds(2), "Ünïcødé fïlé ✓.txt"));
    files.add(file(4097, t.plusSeconds(4), "a", "b", "c", "d", "e", "f", "g", "h", "i", "deep file.txt"));
    files.add(file(0, t, "empty.txt"));
    files.add(file(4096, t, "block.bin"));
    files.add(file(3 * 1024 * 1024 + 123, t, "docs", "big video.mp4"));
    files.add(file(7, t, "Readme.md"));
    files.add(file(8, t, "README.md")); // 7: equals "Readme.md" ignoring case
    files.add(file(9, t, "bad?name.txt")); // 8: '?' refused
    files.add(file(5L << 30, t, "huge.iso")); // 9: 5 GiB
    files.add(file(10, t, "dir:x", "inner.txt")); // 10: folder name refused
    files.add(file(11, t, "trailing.")); // 11: ends in a dot
    files.add(file(12, t, "long file name 1.txt"));
    files.add(file(13, t, "long file name 2.txt"));
    files.add(file(14, t, "UPPER.TXT"));
    files.add(file(15, t, "lower.txt"));
    files.add(file(16, t, ".hidden rc"));
    files.add(file(17, t, "x".repeat(256))); // 17: 256 UTF-16 units
    for (int i = 0; i < 150; i++) {
      // Enough long names to need several clusters of entries in one folder.
      files.add(file(i * 37 % 5000, t.plusSeconds(i), "many", String.format("entry number %03d of the folder.dat", i)));
    }
    return files;
  }

  static List<Integer> skippedIndexes() {
    return List.of(7, 8, 9, 10, 11, 17);
  }

  static List<List<String>> oddDirectories() {
    return List.of(List.of("empty folder"), List.of("docs", "nested empty"));
  }

  static ImageFile file(long size, Instant modified, String... path) {
    return new ImageFile(List.of(path), size, modified);
  }

  /** File i's bytes: random, different for each file. */
  static byte[] content(List<ImageFile> files, int i) {
    byte[] bytes = new byte[Math.toIntExact(files.get(i).size())];
    new Random(i * 7919L + bytes.length).nextBytes(bytes);
    return bytes;
  }

  /** FAT keeps write times to 2 seconds. */
  static Instant fatTime(Instant instant) {
    long seconds = instant.getEpochSecond();
    return Instant.ofEpochSecond(seconds - Math.floorMod(seconds, 2));
  }

  static void requireFsckClean(Path image) {
    Proc.Result fsck = Proc.run(QUICK, "fsck.vfat", "-n", "-V", image.toString());
    assertThat(fsck.exitCode()).as(fsck.output()).isZero();
    // Clean: the banner and the summary line only, nothing it would fix or warn about.
    assertThat(fsck.output().lines().filter(line -> !line.startsWith("fsck.fat ") && !line.startsWith("Starting ")
        && !line.startsWith(image.toString() + ":") && !line.isBlank())).as(fsck.output()).isEmpty();
  }

  @Test
  void toolsSeeExactlyTheTree() throws IOException {
    List<ImageFile> files = oddTree();
    BuiltImage built = new FatImageBuilder().build(files, oddDirectories(), SPEC);
    Path image = work.resolve("disk.img");
    ImageFixture.materialize(built, i -> content(files, i), image);

    assertThat(built.skipped()).extracting(BuiltImage.Skipped::file).containsExactlyElementsOf(skippedIndexes());
    Map<Integer, String> reasons = new TreeMap<>();
    built.skipped().forEach(s -> reasons.put(s.file(), s.reason()));
    assertThat(reasons.get(7)).contains("README.md", "Readme.md", "ignoring case");
    assertThat(reasons.get(8)).contains("bad?name.txt", "'?'");
    assertThat(reasons.get(9)).isEqualTo("huge.iso is 5368709120 bytes; FAT32 holds files below 4 GiB");
    assertThat(reasons.get(10)).contains("dir:x/inner.txt", "':'");
    assertThat(reasons.get(11)).contains("trailing.", "dot");
    assertThat(reasons.get(17)).contains("256 UTF-16 units", "255");
    assertThat(built.size() % 4096).isZero();

    requireFsckClean(image);

    Path out = Files.createDirectories(work.resolve("out"));
    Proc.run(QUICK, Map.of("MTOOLS_SKIP_CHECK", "1", "LC_ALL", "C.UTF-8"),
        List.of("mcopy", "-s", "-m", "-i", image.toString(), "::/", out.toString())).requireSuccess();
    Path root = out;
    assertThat(tree(root)).isEqualTo(expectedTree(files, oddDirectories()));
    for (int i = 0; i < files.size(); i++) {
      if (!skippedIndexes().contains(i)) {
        Path copied = root.resolve(String.join("/", files.get(i).path()));
        assertThat(Files.readAllBytes(copied)).as(files.get(i).display()).isEqualTo(content(files, i));
        assertThat(Files.getLastModifiedTime(copied).toInstant()).as(files.get(i).display())
            .isEqualTo(fatTime(files.get(i).modified()));
      }
    }

    assertThat(Proc.run(QUICK, "fatlabel", image.toString()).requireSuccess().output().strip())
        .isEqualTo("MY SHARE DO");
    assertThat(Proc.run(QUICK, "blkid", "-p", "-o", "export", image.toString()).requireSuccess().output())
        .contains("LABEL=MY\\ SHARE\\ DO", "LABEL_FATBOOT=MY\\ SHARE\\ DO", "UUID=1234-ABCD", "VERSION=FAT32");
  }

  @Test
  void readerListsTheTreeWithItsBytes() throws IOException {
    List<ImageFile> files = oddTree();
    BuiltImage built = new FatImageBuilder().build(files, oddDirectories(), SPEC);
    Path image = work.resolve("disk.img");
    ImageFixture.materialize(built, i -> content(files, i), image);

    ImageReader.Blocks blocks = ImageFixture.blocks(image);
    ImageReader.Listing listing = new FatImageReader().list(blocks);
    TreeSet<String> listed = new TreeSet<>();
    listing.directories().forEach(d -> listed.add(String.join("/", d) + "/"));
    listing.files().forEach(f -> listed.add(String.join("/", f.path())));
    assertThat(listed).isEqualTo(expectedTree(files, oddDirectories()));
    Map<String, ImageReader.FoundFile> found = new TreeMap<>();
    listing.files().forEach(f -> found.put(String.join("/", f.path()), f));
    for (int i = 0; i < files.size(); i++) {
      if (!skippedIndexes().contains(i)) {
        ImageReader.FoundFile f = found.get(files.get(i).display());
        assertThat(f.size()).isEqualTo(files.get(i).size());
        assertThat(f.modified()).isEqualTo(fatTime(files.get(i).modified()));
        assertThat(ImageFixture.read(blocks, f)).as(f.path().toString()).isEqualTo(content(files, i));
        // Our builder places each file in one run, so the reader sees one extent per non-empty file.
        assertThat(f.extents()).hasSize(f.size() == 0 ? 0 : 1);
      }
    }
  }

  @Test
  void metadataIsUnderOnePercentOfTheFiles() {
    List<ImageFile> files = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      files.add(file(256 * 1024, CREATED, "photos", "holiday photo " + i + ".jpeg"));
    }
    BuiltImage built = new FatImageBuilder().build(files, List.of(), SPEC);
    long data = 1000L * 256 * 1024;
    System.out.printf("FAT32 metadata for 1000 files of 256 KiB: %d bytes, %.3f%% of %d%n", built.metadataBytes(),
        100.0 * built.metadataBytes() / data, data);
    assertThat(built.skipped()).isEmpty();
    assertThat(built.metadataBytes()).isLessThan(data / 100);
  }

  /** Paths under root, folders with a trailing '/'. */
  static TreeSet<String> tree(Path root) throws IOException {
    TreeSet<String> paths = new TreeSet<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (!p.equals(root)) {
          String rel = root.relativize(p).toString();
          paths.add(Files.readAttributes(p, BasicFileAttributes.class).isDirectory() ? rel + "/" : rel);
        }
      }
    }
    return paths;
  }

  /** The paths a FAT image of files and folders shows, the skipped files left out. */
  static TreeSet<String> expectedTree(List<ImageFile> files, List<List<String>> directories) {
    TreeSet<String> paths = new TreeSet<>();
    for (int i = 0; i < files.size(); i++) {
      if (!skippedIndexes().contains(i)) {
        List<String> path = files.get(i).path();
        for (int j = 1; j < path.size(); j++) {
          paths.add(String.join("/", path.subList(0, j)) + "/");
        }
        paths.add(String.join("/", path));
      }
    }
    for (List<String> dir : directories) {
      for (int j = 1; j <= dir.size(); j++) {
        paths.add(String.join("/", dir.subList(0, j)) + "/");
      }
    }
    return paths;
  }
}
