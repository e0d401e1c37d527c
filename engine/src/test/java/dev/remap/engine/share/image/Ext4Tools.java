package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The real tools the ext4 tests check images with (e2fsprogs, util-linux), and tree helpers. */
final class Ext4Tools {

  private Ext4Tools() {}

  record Result(int exit, String output) {}

  static Result run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException(String.join(" ", command) + " did not finish");
    }
    return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
  }

  static String ok(String... command) throws IOException, InterruptedException {
    Result result = run(command);
    assertThat(result.exit()).as("%s said:%n%s", String.join(" ", command), result.output()).isZero();
    return result.output();
  }

  /** e2fsck -fn: exit 0 and nothing it would fix. */
  static void fsckClean(Path image) throws IOException, InterruptedException {
    Result result = run("e2fsck", "-fn", image.toString());
    assertThat(result.exit()).as("e2fsck -fn said:%n%s", result.output()).isZero();
    assertThat(result.output().toLowerCase()).as("e2fsck -fn said:%n%s", result.output())
        .doesNotContain("fix", "error", "clear", "invalid", "wrong", "differences");
  }

  /** Like ImageFixture.materialize, but file number left's bytes are not written (a hole). */
  static void materializeWithout(BuiltImage image, IntFunction<byte[]> content, int left, Path target)
      throws IOException {
    List<BuiltImage.Placement> placements = new ArrayList<>();
    for (BuiltImage.Placement placement : image.placements()) {
      if (placement.file() != left) {
        placements.add(placement);
      }
    }
    ImageFixture.materialize(new BuiltImage(image.size(), image.blockSize(), image.metadata(), placements,
        image.skipped()), content, target);
  }

  /** Deterministic bytes of file i (so the same test bytes can be made again to compare). */
  static byte[] content(int i, long size) {
    byte[] bytes = new byte[Math.toIntExact(size)];
    new Random(31L * i + size).nextBytes(bytes);
    return bytes;
  }

  /** Every regular file under root by its relative path, with its bytes. */
  static Map<String, byte[]> filesUnder(Path root) throws IOException {
    Map<String, byte[]> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : (Iterable<Path>) walk::iterator) {
        if (Files.isRegularFile(path) && !relative(root, path).startsWith("lost+found/")) {
          out.put(relative(root, path), Files.readAllBytes(path));
        }
      }
    }
    return out;
  }

  /** Every directory under root (not root itself, not lost+found) by relative path. */
  static List<String> directoriesUnder(Path root) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : (Iterable<Path>) walk::iterator) {
        String relative = relative(root, path);
        if (Files.isDirectory(path) && !path.equals(root) && !relative.equals("lost+found")
            && !relative.startsWith("lost+found/")) {
          out.add(relative);
        }
      }
    }
    out.sort(null);
    return out;
  }

  private static String relative(Path root, Path path) {
    return root.relativize(path).toString();
  }

  /** The files of a listing with their bytes read through the reader's extents. */
  static Map<String, byte[]> filesOf(ImageReader.Listing listing, ImageReader.Blocks image) throws IOException {
    Map<String, byte[]> out = new TreeMap<>();
    for (ImageReader.FoundFile file : listing.files()) {
      out.put(String.join("/", file.path()), ImageFixture.read(image, file));
    }
    return out;
  }

  static List<String> directoriesOf(ImageReader.Listing listing) {
    List<String> out = new ArrayList<>();
    for (List<String> path : listing.directories()) {
      out.add(String.join("/", path));
    }
    out.sort(null);
    return out;
  }

  /** Mounts image on a loop device at dir (the kernel's ext4 driver); undo with unmount. */
  static void mount(Path image, Path dir, boolean writable) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    ok("mount", "-t", "ext4", "-o", (writable ? "rw" : "ro") + ",loop", image.toString(), dir.toString());
  }

  /** Mounts image read-write at dir with extra ext4 options (e.g. "commit=600,data=journal"). */
  static void mount(Path image, Path dir, String options) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    ok("mount", "-t", "ext4", "-o", "rw,loop," + options, image.toString(), dir.toString());
  }

  /** Unmounts dir if mounted; the loop device goes with it (mount's autoclear). */
  static void unmount(Path dir) throws IOException, InterruptedException {
    if (run("mountpoint", "-q", dir.toString()).exit() == 0) {
      ok("umount", dir.toString());
    }
  }

  /** A tree as a mount or a dump shows it: files with bytes and mtimes, and directories. */
  record Tree(Map<String, byte[]> files, Map<String, Instant> times, List<String> directories) {
    static Tree of(Path root) throws IOException {
      Map<String, byte[]> files = filesUnder(root);
      Map<String, Instant> times = new TreeMap<>();
      for (String path : files.keySet()) {
        times.put(path, Files.getLastModifiedTime(root.resolve(path)).toInstant());
      }
      return new Tree(files, times, directoriesUnder(root));
    }
  }

  /** The journal blocks of the commit blocks debugfs's logdump finds, oldest first. */
  static List<Long> commitBlocks(Path img) throws Exception {
    String log = ok("debugfs", "-R", "logdump", img.toString());
    Matcher matcher = Pattern.compile("type 2 \\(commit block\\) at block (\\d+)").matcher(log);
    List<Long> out = new ArrayList<>();
    while (matcher.find()) {
      out.add(Long.parseLong(matcher.group(1)));
    }
    return out;
  }

  /** Zeroes the journal's block n in img (4 KiB blocks), where debugfs maps it. */
  static void zeroJournalBlock(Path img, long n) throws Exception {
    try (FileChannel channel = FileChannel.open(img, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.allocate(4096), journalOffset(img, n));
    }
  }

  /** The image offset of the journal's block n (4 KiB blocks). */
  static long journalOffset(Path img, long n) throws Exception {
    String bmap = ok("debugfs", "-R", "bmap <8> " + n, img.toString()).strip();
    return Long.parseLong(bmap.substring(bmap.lastIndexOf('\n') + 1).strip()) * 4096;
  }
}
