package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The builder on random trees of odd names and sizes up to 64 KiB: file bytes and metadata never
 * overlap and lie in the image, every file starts on 4096 bytes and is covered exactly, the same
 * input gives the same image, and our reader lists exactly the files kept, at their placements.
 */
class FatImageProperties {

  private static final List<String> NAMES = List.of("a", "B", "photo 1.JPG", "Ünïcødé ✓.txt", "x.txt", "X.TXT",
      "long name with spaces.tar.gz", "bad?", "dot.", "deep", "Deep", ".hidden", "12345678.123",
      "123456789.1234", "longfilename1.txt", "longfilename2.txt", "LONGFI~1.TXT", "a+b=c;[d].txt", "日本語.doc");

  @Provide
  Arbitrary<List<ImageFile>> trees() {
    Arbitrary<List<String>> path = Arbitraries.of(NAMES).list().ofMinSize(1).ofMaxSize(3);
    Arbitrary<Long> size = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(1, Arbitraries.just(0L)),
        net.jqwik.api.Tuple.of(1, Arbitraries.of(4095L, 4096L, 4097L)),
        net.jqwik.api.Tuple.of(4, Arbitraries.longs().between(1, 64 * 1024)));
    Arbitrary<Instant> time = Arbitraries.longs().between(0, 4_000_000_000L).map(Instant::ofEpochSecond);
    return Combinators.combine(path, size, time).as(ImageFile::new).list().ofMaxSize(40);
  }

  @Property(tries = 200)
  void layoutIsSoundAndDeterministic(@ForAll("trees") List<ImageFile> files) throws IOException {
    ImageSpec spec = new ImageSpec("Prop", 7, 1 << 20, Instant.parse("2020-02-02T02:02:02Z"));
    BuiltImage built = new FatImageBuilder().build(files, List.of(List.of("deep", "empty")), spec);

    ImageFixture.requireCovered(built, files);
    List<long[]> ranges = new ArrayList<>();
    for (BuiltImage.Written written : built.metadata()) {
      assertThat(written.offset() % 4096).isZero();
      ranges.add(new long[] {written.offset(), written.offset() + written.bytes().length});
    }
    for (BuiltImage.Placement placement : built.placements()) {
      assertThat(placement.imageOffset() % 4096).isZero();
      assertThat(placement.fileOffset()).isZero();
      ranges.add(new long[] {placement.imageOffset(), placement.imageOffset() + placement.length()});
    }
    ranges.sort((x, y) -> Long.compare(x[0], y[0]));
    for (int i = 0; i < ranges.size(); i++) {
      assertThat(ranges.get(i)[0]).isGreaterThanOrEqualTo(i == 0 ? 0 : ranges.get(i - 1)[1]);
      assertThat(ranges.get(i)[1]).isLessThanOrEqualTo(built.size());
    }

    BuiltImage again = new FatImageBuilder().build(files, List.of(List.of("deep", "empty")), spec);
    assertThat(again.size()).isEqualTo(built.size());
    assertThat(again.placements()).isEqualTo(built.placements());
    assertThat(again.skipped()).isEqualTo(built.skipped());
    assertThat(again.metadata()).hasSameSizeAs(built.metadata());
    for (int i = 0; i < built.metadata().size(); i++) {
      assertThat(again.metadata().get(i).offset()).isEqualTo(built.metadata().get(i).offset());
      assertThat(again.metadata().get(i).bytes()).isEqualTo(built.metadata().get(i).bytes());
    }

    // The reader, on the metadata alone, finds each kept file where the builder placed it.
    ImageReader.Listing listing = new FatImageReader().list(metadataOnly(built));
    Map<String, ImageReader.FoundFile> found = new TreeMap<>();
    listing.files().forEach(f -> found.put(String.join("/", f.path()), f));
    Map<String, Long> expected = new TreeMap<>();
    List<Integer> skipped = built.skipped().stream().map(BuiltImage.Skipped::file).toList();
    for (int i = 0; i < files.size(); i++) {
      if (!skipped.contains(i)) {
        expected.put(files.get(i).display(), files.get(i).size());
      }
    }
    assertThat(found.keySet()).isEqualTo(expected.keySet());
    for (BuiltImage.Placement placement : built.placements()) {
      ImageReader.FoundFile file = found.get(files.get(placement.file()).display());
      assertThat(file.extents()).containsExactly(
          new ImageReader.Extent(0, placement.imageOffset(), placement.length()));
    }
  }

  /** The image as the builder's metadata with zeros everywhere else. */
  private static ImageReader.Blocks metadataOnly(BuiltImage built) {
    return new ImageReader.Blocks() {
      @Override
      public long size() {
        return built.size();
      }

      @Override
      public void read(long offset, ByteBuffer dst) {
        int length = dst.remaining();
        int start = dst.position();
        for (int i = 0; i < length; i++) {
          dst.put(start + i, (byte) 0);
        }
        for (BuiltImage.Written written : built.metadata()) {
          long from = Math.max(offset, written.offset());
          long to = Math.min(offset + length, written.offset() + written.bytes().length);
          for (long at = from; at < to; at++) {
            dst.put(start + (int) (at - offset), written.bytes()[(int) (at - written.offset())]);
          }
        }
        dst.position(start + length);
      }
    };
  }
}
