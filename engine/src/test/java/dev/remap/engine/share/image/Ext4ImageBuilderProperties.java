package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** The ext4 layout on random trees: where bytes go, and what e2fsck and the reader make of it. */
class Ext4ImageBuilderProperties {

  private static final String[] PARTS = {"a", "b", "dir", "Ünïcødé", "with space", "✓", "日本語", "x.txt",
    " lead", "trail ", "#%&!", "e\u0301"};

  /** A random tree: shared folders, odd names, now and then a name over 255 bytes or a repeat. */
  static List<ImageFile> randomTree(Random random, int count) {
    List<ImageFile> files = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int depth = 1 + random.nextInt(4);
      List<String> path = new ArrayList<>();
      for (int d = 0; d < depth; d++) {
        path.add(switch (random.nextInt(10)) {
          case 0 -> "n".repeat(1 + random.nextInt(262));
          case 1 -> "é".repeat(100 + random.nextInt(40));
          default -> PARTS[random.nextInt(PARTS.length)] + (d == depth - 1 ? " " + random.nextInt(count) : "");
        });
      }
      long size = random.nextInt(5) == 0 ? random.nextInt(3) * 4096L : random.nextInt(64 * 1024 + 1);
      Instant modified = Instant.ofEpochSecond(1_600_000_000L + random.nextInt(100_000_000),
          random.nextInt(1_000_000_000));
      files.add(new ImageFile(path, size, modified));
    }
    return files;
  }

  private static BuiltImage build(List<ImageFile> files, long free, int serial) {
    return new Ext4ImageBuilder().build(files, List.of(List.of("empty"), List.of("a", "empty too")),
        new ImageSpec("prop", serial, free, Instant.parse("2025-05-05T05:05:05Z")));
  }

  @Property(tries = 200)
  void placementsAreAlignedDisjointInsideAndDeterministic(@ForAll long seed,
      @ForAll @IntRange(min = 0, max = 80) int count, @ForAll @LongRange(min = 0, max = 3L << 30) long free) {
    List<ImageFile> files = randomTree(new Random(seed), count);
    BuiltImage image = build(files, free, (int) seed);
    ImageFixture.requireCovered(image, files);
    assertThat(image.blockSize()).isEqualTo(4096);
    assertThat(image.size() % 4096).isZero();
    // Every byte range the image writes, metadata and files, as {start, end, file or -1}.
    List<long[]> ranges = new ArrayList<>();
    for (BuiltImage.Written written : image.metadata()) {
      assertThat(written.offset() % 4096).isZero();
      assertThat(written.bytes().length % 4096).isZero();
      ranges.add(new long[] {written.offset(), written.offset() + written.bytes().length, -1});
    }
    for (BuiltImage.Placement placement : image.placements()) {
      assertThat(placement.imageOffset() % 4096).isZero();
      assertThat(placement.length()).isPositive();
      ranges.add(new long[] {placement.imageOffset(), placement.imageOffset() + placement.length(), placement.file()});
    }
    ranges.sort((x, y) -> Long.compare(x[0], y[0]));
    for (int i = 0; i < ranges.size(); i++) {
      assertThat(ranges.get(i)[0]).isNotNegative();
      assertThat(ranges.get(i)[1]).isLessThanOrEqualTo(image.size());
      if (i > 0) {
        assertThat(ranges.get(i)[0]).as("range %d starts after the previous ends", i)
            .isGreaterThanOrEqualTo(ranges.get(i - 1)[1]);
      }
    }
    for (BuiltImage.Skipped skipped : image.skipped()) {
      assertThat(skipped.reason()).contains(files.get(skipped.file()).display());
    }
    for (ImageFile file : files) {
      boolean tooLong = file.path().stream().anyMatch(n -> n.getBytes(StandardCharsets.UTF_8).length > 255);
      if (tooLong) {
        assertThat(image.skipped()).extracting(BuiltImage.Skipped::file).contains(files.indexOf(file));
      }
    }
    // The free space asked for is there, beyond what files and metadata take.
    long used = image.metadataBytes();
    for (BuiltImage.Placement placement : image.placements()) {
      used += placement.length();
    }
    assertThat(image.size() - used).isGreaterThanOrEqualTo(free);
    BuiltImage again = build(files, free, (int) seed);
    assertThat(again.size()).isEqualTo(image.size());
    assertThat(again.placements()).isEqualTo(image.placements());
    assertThat(again.skipped()).isEqualTo(image.skipped());
    assertThat(again.metadata()).hasSameSizeAs(image.metadata());
    for (int i = 0; i < image.metadata().size(); i++) {
      assertThat(again.metadata().get(i).offset()).isEqualTo(image.metadata().get(i).offset());
      assertThat(again.metadata().get(i).bytes()).isEqualTo(image.metadata().get(i).bytes());
    }
  }

  @Property(tries = 20)
  void e2fsckIsCleanAndTheReaderGetsTheTreeBack(@ForAll long seed, @ForAll @IntRange(min = 0, max = 60) int count,
      @ForAll @IntRange(min = 0, max = 400 << 20) int free) throws Exception {
    // Up to 400 MiB free: several groups, a last group of any length (the image file is sparse).
    List<ImageFile> files = randomTree(new Random(seed), count);
    BuiltImage image = build(files, free, (int) seed);
    Path dir = Files.createTempDirectory("ext4-prop");
    Path img = dir.resolve("p.img");
    try {
      ImageFixture.materialize(image, i -> Ext4Tools.content(i, files.get(i).size()), img);
      Ext4Tools.fsckClean(img);
      ImageReader.Blocks blocks = ImageFixture.blocks(img);
      ImageReader.Listing listing = new Ext4ImageReader().list(blocks);
      Map<String, byte[]> expected = new TreeMap<>();
      Map<String, Instant> times = new HashMap<>();
      List<Integer> skipped = image.skipped().stream().map(BuiltImage.Skipped::file).toList();
      for (int i = 0; i < files.size(); i++) {
        if (!skipped.contains(i)) {
          expected.put(files.get(i).display(), Ext4Tools.content(i, files.get(i).size()));
          times.put(files.get(i).display(), files.get(i).modified());
        }
      }
      Map<String, byte[]> read = Ext4Tools.filesOf(listing, blocks);
      assertThat(read.keySet()).containsExactlyElementsOf(expected.keySet());
      for (Map.Entry<String, byte[]> entry : expected.entrySet()) {
        assertThat(read.get(entry.getKey())).as(entry.getKey()).isEqualTo(entry.getValue());
      }
      for (ImageReader.FoundFile found : listing.files()) {
        assertThat(found.modified()).isEqualTo(times.get(String.join("/", found.path())));
      }
      assertThat(Ext4Tools.directoriesOf(listing)).contains("empty", "a/empty too");
    } finally {
      Files.deleteIfExists(img);
      Files.deleteIfExists(dir);
    }
  }
}
