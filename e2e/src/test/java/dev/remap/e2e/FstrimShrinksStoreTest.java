package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What users of Longhorn and Harvester ask for: deleting files in a filesystem on a Remap disk
 * and running fstrim makes the store smaller. The disk is served by `remap serve` and used the
 * way the CSI node uses a filesystem volume without the nbd module: nbdfuse exposes the export
 * as a file, a loop device (direct I/O) sits on it, and the kernel's ext4 on the loop device
 * sends the discards, which arrive as NBD trims. The store is measured after a collection.
 */
class FstrimShrinksStoreTest {

  private static final Duration QUICK = Duration.ofMinutes(2);
  private static final long FILES = 96L << 20;

  @TempDir Path dir;

  @Test
  void deletedFilesAndFstrimGiveTheSpaceBack() throws Exception {
    String store = "file://" + dir.resolve("store");
    remap("volume", "create", "fsdisk", "--size", "512M");
    Path socket = dir.resolve("serve.sock");
    Path fuse = Files.createDirectories(dir.resolve("fuse"));
    Path mount = Files.createDirectories(dir.resolve("fs"));
    try (BackgroundProcess serve = BackgroundProcess.start(RemapPaths.root().resolve("remap").toString(), "serve",
            "--store", store, "--journal", dir.resolve("journal").toString(), "--socket", socket.toString());
        BackgroundProcess nbdfuse = startFuse(serve, socket, fuse)) {
      String loop = run("losetup", "-f", "--show", "--direct-io=on", fuse.resolve("disk").toString()).trim();
      try {
        run("mkfs.ext4", "-q", loop);
        run("mount", loop, mount.toString());
        try {
          run("dd", "if=/dev/urandom", "of=" + mount.resolve("data"), "bs=1M", "count=" + (FILES >> 20),
              "conv=fsync", "status=none");
          long withFiles = collectedSegmentBytes(bytes -> bytes >= FILES);
          Files.delete(mount.resolve("data"));
          // ext4 frees a deleted file's blocks when its journal commits; fstrim skips them before.
          run("sync");
          String trimmed = run("fstrim", "-v", mount.toString());
          assertThat(trimmed).contains("trimmed");
          // The trims reach the store after the upload delay; the cleaner then finds the file's
          // segments dead, checkpoints, and a collection deletes them.
          long after = collectedSegmentBytes(bytes -> bytes <= withFiles - FILES * 9 / 10);
          assertThat(withFiles - after).as("store bytes freed by deleting %d MiB of files and fstrim", FILES >> 20)
              .isGreaterThanOrEqualTo(FILES * 9 / 10);
        } finally {
          Proc.run(QUICK, "umount", mount.toString());
        }
      } finally {
        Proc.run(QUICK, "losetup", "-d", loop);
        Proc.run(QUICK, "fusermount3", "-u", fuse.toString());
      }
    }
  }

  private BackgroundProcess startFuse(BackgroundProcess serve, Path socket, Path fuse) {
    serve.awaitSocket(socket, Duration.ofSeconds(60));
    Path pid = dir.resolve("nbdfuse.pid");
    return BackgroundProcess.start(RemapPaths.command("nbdfuse").toString(), "-P", pid.toString(),
            fuse.resolve("disk").toString(), "nbd+unix:///fsdisk?socket=" + socket)
        .awaitReady(Duration.ofSeconds(30), () -> Files.exists(pid));
  }

  /** Collects the store's garbage until its segments satisfy the condition; their bytes then. */
  private long collectedSegmentBytes(java.util.function.LongPredicate condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      remap("gc", "--grace", "0s");
      long bytes = segmentBytes();
      if (condition.test(bytes) || System.nanoTime() > deadline) {
        return bytes;
      }
      Thread.sleep(1000);
    }
  }

  private long segmentBytes() throws IOException {
    Path segments = dir.resolve("store").resolve("segments");
    if (!Files.exists(segments)) {
      return 0;
    }
    try (Stream<Path> files = Files.walk(segments)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private String remap(String... args) {
    String[] command = Stream.concat(Stream.of(RemapPaths.root().resolve("remap").toString()),
        Stream.concat(Stream.of(args), Stream.of("--store", "file://" + dir.resolve("store"),
            "--journal", dir.resolve("cli-journal").toString()))).toArray(String[]::new);
    return run(command);
  }

  private static String run(String... command) {
    return Proc.run(QUICK, command).requireSuccess().output();
  }
}
