package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.testkit.Proc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader on images that are not ours to trust: foreign, damaged, or written by mkfs.vfat. */
class FatImageReaderTest {

  @TempDir
  Path work;

  @Test
  void refusesWhatIsNotFat32() throws IOException {
    Path zeros = work.resolve("zeros.img");
    try (FileChannel channel = FileChannel.open(zeros, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.allocate(1), (1 << 20) - 1);
    }
    assertThatThrownBy(() -> new FatImageReader().list(ImageFixture.blocks(zeros)))
        .isInstanceOf(IOException.class).hasMessageContaining("not a FAT filesystem");

    Path fat16 = work.resolve("fat16.img");
    Proc.run(FatImageBuilderTest.QUICK, "mkfs.vfat", "-F", "16", "-C", fat16.toString(), "32768").requireSuccess();
    assertThatThrownBy(() -> new FatImageReader().list(ImageFixture.blocks(fat16)))
        .isInstanceOf(IOException.class).hasMessageContaining("not FAT32");
  }

  @Test
  void readsAnEmptyMkfsVolume() throws IOException {
    Path image = work.resolve("mkfs.img");
    Proc.run(FatImageBuilderTest.QUICK, "mkfs.vfat", "-F", "32", "-n", "OTHER", "-C", image.toString(), "307200")
        .requireSuccess();
    ImageReader.Listing listing = new FatImageReader().list(ImageFixture.blocks(image));
    assertThat(listing.files()).isEmpty();
    assertThat(listing.directories()).isEmpty();
  }

  @Test
  void reportsALoopAndAChainLeavingTheVolume() throws IOException {
    List<ImageFile> files = List.of(new ImageFile(List.of("looped.bin"), 5 * 4096, Instant.EPOCH));
    BuiltImage built = new FatImageBuilder().build(files, List.of(),
        new ImageSpec("", 1, 0, Instant.parse("2020-01-01T00:00:00Z")));
    Path image = work.resolve("disk.img");
    ImageFixture.materialize(built, i -> new byte[5 * 4096], image);
    long first = built.placements().get(0).imageOffset();
    FatBootSector boot = FatBootSector.parse(FatImageReader.read(ImageFixture.blocks(image), 0, 512), built.size());
    long cluster = (first - boot.dataOffset()) / 4096 + 2;

    // The file's third cluster points back to its first, in both FATs.
    patchFat(image, boot, cluster + 2, cluster);
    assertThatThrownBy(() -> new FatImageReader().list(ImageFixture.blocks(image)))
        .isInstanceOf(IOException.class).hasMessageContaining("looped.bin").hasMessageContaining("used twice");

    patchFat(image, boot, cluster + 2, 0x0FFFFF00L);
    assertThatThrownBy(() -> new FatImageReader().list(ImageFixture.blocks(image)))
        .isInstanceOf(IOException.class).hasMessageContaining("looped.bin").hasMessageContaining("outside the volume");

    patchFat(image, boot, cluster + 2, FatBootSector.END_OF_CHAIN);
    assertThatThrownBy(() -> new FatImageReader().list(ImageFixture.blocks(image)))
        .isInstanceOf(IOException.class).hasMessageContaining("looped.bin")
        .hasMessageContaining("ends after 3 clusters");
  }

  private static void patchFat(Path image, FatBootSector boot, long cluster, long value) throws IOException {
    try (FileChannel channel = FileChannel.open(image, StandardOpenOption.WRITE)) {
      for (int fat = 0; fat < boot.fats(); fat++) {
        ByteBuffer entry = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, (int) value);
        channel.write(entry, boot.fatOffset(fat) + cluster * 4);
      }
    }
  }
}
