package dev.remap.engine.share;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.share.image.ImageReader;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.store.StoreException;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import dev.remap.testkit.Proc;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A share's base generation from a real S3 bucket (s3proxy): files with odd names are fetched
 * once per content, split into groups, and each group's disk is built by remapping. Each disk is
 * read back through the volume, checked by the filesystem's own fsck, and its files compared with
 * the bucket's bytes by the filesystem's own tools.
 */
class ShareBuildTest {

  private static final String CLOUD = "user-cloud";
  private static S3ServerProcess server;

  @TempDir Path tmp;
  private CountingStore store;
  private VolumeManager manager;
  private ContentStore contents;
  private S3CloudDisk cloud;

  @BeforeAll
  static void startServer() {
    server = S3ServerProcess.start();
    server.createBucket(CLOUD);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @BeforeEach
  void open() throws IOException {
    store = new CountingStore(FileObjectStore.open(tmp.resolve("store")));
    manager = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")));
    contents = new ContentStore(store, tmp.resolve("scratch"));
  }

  @AfterEach
  void close() throws IOException {
    if (cloud != null) {
      cloud.close();
    }
    store.close();
  }

  /** The user's tree: odd names, deep folders, the same bytes twice, an empty folder. */
  private Map<String, byte[]> userTree(String prefix) throws IOException {
    cloud = new S3CloudDisk(server.endpoint(), CLOUD, prefix, null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY));
    Random random = new Random(42);
    Map<String, byte[]> tree = new LinkedHashMap<>();
    tree.put("Photos/2024/beach day.jpg", bytes(random, 300_000));
    tree.put("Photos/Ünïcødé fïlé ✓.png", bytes(random, 4096));
    tree.put("Photos/tiny.JPG", bytes(random, 1));
    tree.put("Texts/notes.txt", "meeting at noon\n".getBytes(StandardCharsets.UTF_8));
    tree.put("Texts/copy of notes.txt", "meeting at noon\n".getBytes(StandardCharsets.UTF_8));
    tree.put("Texts/deep/a/b/c/d/e/f/g/h/readme.md", bytes(random, 4097));
    tree.put("Texts/empty.txt", new byte[0]);
    tree.put("root file.txt", bytes(random, 70_000));
    for (Map.Entry<String, byte[]> file : tree.entrySet()) {
      Path local = tmp.resolve("upload");
      Files.write(local, file.getValue());
      cloud.upload(file.getKey(), local, null);
    }
    Path marker = tmp.resolve("marker");
    Files.write(marker, new byte[0]);
    cloud.upload("Empty folder/", marker, null);
    return tree;
  }

  @ParameterizedTest
  @EnumSource(ImageFormat.class)
  void aSingleDiskHoldsTheWholeTreeAndPassesFsck(ImageFormat format) throws Exception {
    Map<String, byte[]> tree = userTree("single-" + format + "/");
    ShareBuilder builder = new ShareBuilder(manager, contents);
    ShareBuilder.Report report = builder.build(cloud, new ShareBuilder.Options("s1-" + format.name().toLowerCase(),
        new ShareSplit.Rule(ShareSplit.Mode.SINGLE, Map.of(), "other"), format, 64L << 20), Optional.empty(), 1);

    Generation.Group all = report.generation().group(ShareSplit.ALL);
    assertThat(all.files()).hasSize(tree.size());
    // The two notes are the same bytes: fetched twice (two names), stored once.
    assertThat(report.downloaded()).isEqualTo(tree.size());
    long distinct = tree.values().stream().map(b -> new String(b, StandardCharsets.ISO_8859_1)).distinct()
        .mapToLong(String::length).sum();
    assertThat(report.contentBytesStored()).isEqualTo(distinct);

    Path image = readVolume(all.volume());
    fsck(format, image);
    Map<String, byte[]> found = extract(format, image);
    assertSameTree(found, tree);
    assertThat(directories(format, image)).contains("Empty folder");
    // What the generation records is what the disk holds, and it survives a reread.
    assertThat(builder.read("s1-" + format.name().toLowerCase(), 1)).isEqualTo(report.generation());
  }

  @Test
  void byFolderGivesOneDiskPerTopLevelFolderAndRootFilesGoToOthers() throws Exception {
    Map<String, byte[]> tree = userTree("folders/");
    ShareBuilder.Report report = new ShareBuilder(manager, contents).build(cloud, new ShareBuilder.Options("f1",
        new ShareSplit.Rule(ShareSplit.Mode.BY_FOLDER, Map.of(), "other"), ImageFormat.EXT4, 64L << 20),
        Optional.empty(), 1);
    assertThat(report.generation().groups()).extracting(Generation.Group::name)
        .containsExactly("Empty folder", "Photos", "Texts", "other");
    Map<String, byte[]> photos = extract(ImageFormat.EXT4, readVolume(report.generation().group("Photos").volume()));
    assertSameTree(photos, under(tree, "Photos/"));
    Map<String, byte[]> others = extract(ImageFormat.EXT4, readVolume(report.generation().group("other").volume()));
    assertSameTree(others, Map.of("root file.txt", tree.get("root file.txt")));
    assertThat(extract(ImageFormat.EXT4, readVolume(report.generation().group("Empty folder").volume()))).isEmpty();
  }

  @Test
  void byDataTypeGroupsByExtensionWithTheirFoldersAndLeavesTheRestInTheCloudWhenNoGroupTakesIt() throws Exception {
    Map<String, byte[]> tree = userTree("types/");
    Map<String, List<String>> types = new LinkedHashMap<>();
    types.put("photos", List.of("jpg", "png"));
    types.put("texts", List.of("txt"));
    types.put("videos", List.of("mp4"));
    ShareBuilder.Report report = new ShareBuilder(manager, contents).build(cloud, new ShareBuilder.Options("t1",
        new ShareSplit.Rule(ShareSplit.Mode.BY_DATA_TYPE, types, null), ImageFormat.VFAT, 64L << 20),
        Optional.empty(), 1);
    Generation generation = report.generation();
    assertThat(generation.groups()).extracting(Generation.Group::name).containsExactly("photos", "texts", "videos");
    Map<String, byte[]> photos = extract(ImageFormat.VFAT, readVolume(generation.group("photos").volume()));
    Map<String, byte[]> expected = new TreeMap<>();
    tree.forEach((name, bytes) -> {
      if (name.endsWith(".jpg") || name.endsWith(".png") || name.endsWith(".JPG")) {
        expected.put(name, bytes);
      }
    });
    assertSameTree(photos, expected);
    assertThat(extract(ImageFormat.VFAT, readVolume(generation.group("videos").volume()))).isEmpty();
    assertThat(generation.unplaced()).extracting(Generation.Skipped::cloudName)
        .containsExactly("Texts/deep/a/b/c/d/e/f/g/h/readme.md");
    assertThat(generation.unplaced().get(0).reason()).contains("readme.md").contains("stays in the cloud");
  }

  @Test
  void theNextGenerationFetchesOnlyWhatChangedAndRemapsTheRest() throws Exception {
    Map<String, byte[]> tree = userTree("again/");
    ShareBuilder builder = new ShareBuilder(manager, contents);
    ShareBuilder.Options options = new ShareBuilder.Options("a1",
        new ShareSplit.Rule(ShareSplit.Mode.SINGLE, Map.of(), null), ImageFormat.EXT4, 64L << 20);
    Generation first = builder.build(cloud, options, Optional.empty(), 1).generation();
    Path local = tmp.resolve("new");
    byte[] added = "a new file from the cloud\n".getBytes(StandardCharsets.UTF_8);
    Files.write(local, added);
    cloud.upload("Texts/added later.txt", local, null);

    ShareBuilder.Report second = builder.build(cloud, options, Optional.of(first), 2);
    assertThat(second.downloaded()).isEqualTo(1);
    assertThat(second.contentBytesStored()).isEqualTo(added.length);
    tree.put("Texts/added later.txt", added);
    assertSameTree(extract(ImageFormat.EXT4, readVolume(second.generation().group(ShareSplit.ALL).volume())), tree);
    // The first generation's disk is untouched: VMs still on it see what they saw.
    tree.remove("Texts/added later.txt");
    assertSameTree(extract(ImageFormat.EXT4, readVolume(first.group(ShareSplit.ALL).volume())), tree);
  }

  @Test
  void aBuildCutShortBeforeItsGenerationIsWrittenIsMadeAgain() throws Exception {
    Map<String, byte[]> tree = userTree("cut/");
    ShareBuilder builder = new ShareBuilder(manager, contents);
    ShareBuilder.Options options = new ShareBuilder.Options("c1",
        new ShareSplit.Rule(ShareSplit.Mode.BY_FOLDER, Map.of(), "other"), ImageFormat.EXT4, 64L << 20);
    builder.build(cloud, options, Optional.empty(), 1);
    // The state a crash leaves between the disks and the generation: disks, no generation.
    store.delete(ShareBuilder.generationKey("c1", 1));
    ShareBuilder.Report again = builder.build(cloud, options, Optional.empty(), 1);
    assertThat(again.downloaded()).as("content already stored is not stored again").isEqualTo(tree.size());
    assertSameTree(extract(ImageFormat.EXT4, readVolume(again.generation().group("Photos").volume())),
        under(tree, "Photos/"));
  }

  @Test
  void buildingWritesOnlyMetadataNotTheFilesAgain() throws Exception {
    // 1,024 files of 256 KiB = 256 MiB in 16 folders: the disk's data blocks are the content
    // objects themselves, so building writes metadata only.
    cloud = new S3CloudDisk(server.endpoint(), CLOUD, "big/", null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY));
    Random random = new Random(7);
    Path local = tmp.resolve("upload");
    long fileBytes = 0;
    for (int i = 0; i < 1024; i++) {
      byte[] data = bytes(random, 256 << 10);
      Files.write(local, data);
      cloud.upload("folder " + (i % 16) + "/photo " + i + ".jpg", local, null);
      fileBytes += data.length;
    }
    for (ImageFormat format : ImageFormat.values()) {
      store.reset();
      ShareBuilder.Report report = new ShareBuilder(manager, contents).build(cloud, new ShareBuilder.Options(
          "big-" + format.name().toLowerCase(), new ShareSplit.Rule(ShareSplit.Mode.SINGLE, Map.of(), null), format,
          1L << 30), Optional.empty(), 1);
      long content = store.written(ContentStore.PREFIX);
      long building = store.written("") - content;
      System.out.printf("share build %s: %d files, %d file bytes, content stored %d, building wrote %d (%.3f%%)%n",
          format, 1024, fileBytes, content, building, 100.0 * building / fileBytes);
      assertThat(building).isLessThan(fileBytes / 20);
      Path image = readVolume(report.generation().group(ShareSplit.ALL).volume());
      fsck(format, image);
    }
  }

  @Test
  void aMissingBucketAndWrongCredentialsAreSentencesNamingThem() {
    try (S3CloudDisk missing = new S3CloudDisk(server.endpoint(), "no-such-bucket", "", null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY))) {
      assertThatThrownBy(missing::check).isInstanceOf(StoreException.class).hasMessageContaining("no-such-bucket")
          .hasMessageContaining("does not exist");
    }
    try (S3CloudDisk wrong = new S3CloudDisk(server.endpoint(), CLOUD, "", null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, "not-the-secret"))) {
      assertThatThrownBy(wrong::check).isInstanceOf(StoreException.class).hasMessageContaining(CLOUD)
          .hasMessageContaining("credentials").hasMessageNotContaining("not-the-secret");
    }
  }

  @Test
  void aConditionalUploadNeverOverwritesAChangeMadeInTheCloud() throws Exception {
    userTree("conditional/");
    CloudDisk.Entry notes = cloud.list().stream().filter(e -> e.name().equals("Texts/notes.txt")).findFirst().orElseThrow();
    Path local = tmp.resolve("change");
    Files.writeString(local, "changed in the cloud\n");
    String changed = cloud.upload("Texts/notes.txt", local, notes.etag());
    Files.writeString(local, "changed by a VM from the old version\n");
    assertThatThrownBy(() -> cloud.upload("Texts/notes.txt", local, notes.etag()))
        .isInstanceOf(CloudDisk.ConflictException.class).hasMessageContaining("Texts/notes.txt");
    assertThatThrownBy(() -> cloud.upload("Texts/notes.txt", local, null))
        .isInstanceOf(CloudDisk.ConflictException.class);
    assertThatThrownBy(() -> cloud.delete("Texts/notes.txt", notes.etag()))
        .isInstanceOf(CloudDisk.ConflictException.class);
    cloud.delete("Texts/notes.txt", changed);
    assertThat(cloud.list()).extracting(CloudDisk.Entry::name).doesNotContain("Texts/notes.txt");
  }

  // ---------------------------------------------------------------------------------------------

  private Path readVolume(String name) throws IOException {
    Path image = tmp.resolve(name + ".img");
    try (Volume volume = manager.open(name);
        FileChannel out = FileChannel.open(image, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
      for (long offset = 0; offset < volume.size(); offset += buffer.capacity()) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), volume.size() - offset));
        volume.read(offset, buffer);
        buffer.flip();
        if (!isZero(buffer)) {
          out.write(buffer, offset);
        }
      }
      out.truncate(volume.size());
      if (out.size() < volume.size()) {
        out.write(ByteBuffer.allocate(1), volume.size() - 1);
      }
    }
    return image;
  }

  private static void fsck(ImageFormat format, Path image) throws IOException {
    Proc.Result result = format == ImageFormat.EXT4 ? run(List.of("e2fsck", "-fn", image.toString()))
        : run(List.of("fsck.vfat", "-n", image.toString()));
    assertThat(result.exitCode()).as("fsck of %s:%n%s", image, result.output()).isZero();
  }

  /** The files of the image as the filesystem's own tools see them (via the project's readers, cross-checked by a loop-less tool). */
  private Map<String, byte[]> extract(ImageFormat format, Path image) throws IOException {
    Path out = Files.createTempDirectory(tmp, "extract");
    if (format == ImageFormat.EXT4) {
      Proc.Result result = run(List.of("debugfs", "-R", "rdump / " + out, image.toString()));
      assertThat(result.exitCode()).as(result.output()).isZero();
    } else {
      Proc.Result result = run(List.of("mcopy", "-s", "-n", "-i", image.toString(), "::/*", out.toString()));
      assertThat(result.exitCode() == 0 || isEmptyFat(image)).as(result.output()).isTrue();
    }
    Map<String, byte[]> found = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(out)) {
      for (Path path : walk.filter(Files::isRegularFile).toList()) {
        found.put(out.relativize(path).toString(), Files.readAllBytes(path));
      }
    }
    // The project's own reader must agree with the tool.
    ImageReader.Blocks blocks = dev.remap.engine.share.image.ImageFixture.blocks(image);
    Map<String, byte[]> ours = new TreeMap<>();
    for (ImageReader.FoundFile file : format.reader().list(blocks).files()) {
      ours.put(String.join("/", file.path()), dev.remap.engine.share.image.ImageFixture.read(blocks, file));
    }
    ours.remove("lost+found");
    assertSameTree(ours, found);
    return found;
  }

  private List<String> directories(ImageFormat format, Path image) throws IOException {
    return format.reader().list(dev.remap.engine.share.image.ImageFixture.blocks(image)).directories().stream()
        .map(path -> String.join("/", path)).toList();
  }

  private static Proc.Result run(List<String> command) {
    // A UTF-8 locale: mtools and debugfs write names in the locale's charset.
    return Proc.run(Duration.ofMinutes(2), Map.of("LC_ALL", "C.UTF-8"), command);
  }

  private static boolean isEmptyFat(Path image) throws IOException {
    Proc.Result result = run(List.of("mdir", "-b", "-i", image.toString(), "::/"));
    return result.output().isBlank();
  }

  private static void assertSameTree(Map<String, byte[]> found, Map<String, byte[]> expected) {
    assertThat(found.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    for (Map.Entry<String, byte[]> file : expected.entrySet()) {
      assertThat(found.get(file.getKey())).as(file.getKey()).isEqualTo(file.getValue());
    }
  }

  private static Map<String, byte[]> under(Map<String, byte[]> tree, String prefix) {
    Map<String, byte[]> out = new TreeMap<>();
    tree.forEach((name, bytes) -> {
      if (name.startsWith(prefix)) {
        out.put(name.substring(prefix.length()), bytes);
      }
    });
    return out;
  }

  private static byte[] bytes(Random random, int size) {
    byte[] data = new byte[size];
    random.nextBytes(data);
    return data;
  }

  private static boolean isZero(ByteBuffer buffer) {
    for (int i = buffer.position(); i < buffer.limit(); i++) {
      if (buffer.get(i) != 0) {
        return false;
      }
    }
    return true;
  }
}
