package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import dev.remap.testkit.Proc;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node plugin is killed (SIGKILL) while a block and a filesystem volume are staged and
 * published. The devices (loop on nbdfuse, whose proxy reconnects) outlive the plugin; the
 * restarted plugin reads its persisted state, serves both volumes again, and the devices
 * reconnect to it: writers running across the restart see a stall, never an error, and
 * everything written and synced is found.
 */
class CsiRestartTest {

  private static final Duration QUICK = Duration.ofMinutes(2);

  @Test
  void aRestartedNodePluginServesStagedVolumesAgain(@TempDir Path dir) throws IOException {
    Volumes v = new Volumes(dir);
    byte[] pattern = v.pattern(256 << 10, 7);
    Path patternFile = dir.resolve("pattern");

    CsiClient first = CsiClient.start(dir);
    try {
      v.createAndPublish(first, 32L << 20);
      Proc.run(QUICK, "dd", "if=" + patternFile, "of=" + v.blockTarget, "bs=256K", "seek=8", "count=1",
          "oflag=direct", "conv=fsync,notrunc").requireSuccess();
      Files.write(v.fsTarget.resolve("before-kill"), pattern);
      try (FileChannel file = FileChannel.open(v.fsTarget.resolve("before-kill"), StandardOpenOption.WRITE)) {
        file.force(true);
      }
      first.driver.kill();
    } finally {
      first.close();
    }

    try (CsiClient second = CsiClient.start(dir)) {
      assertThat(Files.readAllBytes(v.fsTarget.resolve("before-kill"))).isEqualTo(pattern);
      Path readBack = dir.resolve("read-back");
      Proc.run(QUICK, "dd", "if=" + v.blockTarget, "of=" + readBack, "bs=256K", "skip=8", "count=1",
          "iflag=direct").requireSuccess();
      assertThat(Files.readAllBytes(readBack)).isEqualTo(pattern);
      // The restarted plugin still knows what it published: stage/publish again are no-ops,
      // and unpublish/unstage undo everything.
      second.stageAndPublish("fs", v.fsStaging, v.fsTarget, v.fsCap);
      v.unpublishAndUnstage(second);
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
  }

  @Test
  void writersRunningAcrossAPluginKillSeeAStallNotAnError(@TempDir Path dir) throws Exception {
    Volumes v = new Volumes(dir);
    byte[] pattern = v.pattern(128 << 10, 11);
    Path patternFile = dir.resolve("pattern");

    CsiClient first = CsiClient.start(dir);
    Process fio;
    Process files;
    try {
      v.createAndPublish(first, 64L << 20);
      // fio writes the block device over and over, fsyncs every 8 writes and reads back what it
      // wrote (crc32c) all along; any I/O error or mismatch ends it with a failure status.
      fio = new ProcessBuilder("fio", "--name=load", "--filename=" + v.blockTarget, "--rw=write", "--bs=64k",
          "--direct=1", "--ioengine=psync", "--size=32M", "--time_based", "--runtime=25", "--fsync=8",
          "--verify=crc32c", "--verify_backlog=16", "--verify_fatal=1", "--exitall_on_error")
          .redirectErrorStream(true).redirectOutput(dir.resolve("fio.log").toFile()).start();
      // A second writer copies the pattern into files on the filesystem (a ring of 256), each synced.
      files = new ProcessBuilder("sh", "-c", "end=$(( $(date +%s) + 25 )); i=0; "
          + "while [ $(date +%s) -lt $end ]; do f=\"$1/f$((i % 256))\"; cp \"$0\" \"$f\" && sync \"$f\" || exit 1; "
          + "i=$((i+1)); done; echo $i", patternFile.toString(), v.fsTarget.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("files.log").toFile()).start();
      Thread.sleep(6000);
      assertThat(fio.isAlive()).as("fio runs when the plugin is killed").isTrue();
      assertThat(files.isAlive()).as("the file writer runs when the plugin is killed").isTrue();
      first.driver.kill();
    } finally {
      first.close();
    }
    Thread.sleep(1000);
    try (CsiClient second = CsiClient.start(dir)) {
      java.nio.file.attribute.FileTime restarted = java.nio.file.attribute.FileTime.from(java.time.Instant.now());
      assertThat(fio.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
      assertThat(files.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
      assertThat(fio.exitValue()).as("fio: %s", Files.readString(dir.resolve("fio.log"))).isZero();
      assertThat(Files.readString(dir.resolve("fio.log"))).contains("err= 0").doesNotContain("verify:");
      assertThat(files.exitValue()).as("file writer: %s", Files.readString(dir.resolve("files.log"))).isZero();
      int written = Integer.parseInt(Files.readString(dir.resolve("files.log")).strip());
      try (var listing = Files.list(v.fsTarget)) {
        assertThat(listing.filter(f -> {
          try {
            return Files.getLastModifiedTime(f).compareTo(restarted) > 0;
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }).count()).as("files written after the restart").isPositive();
      }
      for (int i = 0; i < Math.min(written, 256); i++) {
        assertThat(Files.readAllBytes(v.fsTarget.resolve("f" + i))).as("file f%d", i).isEqualTo(pattern);
      }
      v.unpublishAndUnstage(second);
    } finally {
      fio.destroyForcibly();
      files.destroyForcibly();
      releaseHost(dir);
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
    assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
        .filter(c -> c.contains(dir.resolve("state").toString()))).as("nbdfuse and the proxy are gone").isEmpty();
  }

  /**
   * After a failure midway: devices that outlive the plugin would keep their FUSE mounts (and the
   * temporary folder's cleanup would wait on them), so undo whatever is left. A no-op when the
   * test unstaged everything.
   */
  private static void releaseHost(Path dir) {
    // The device processes first: with them gone every access fails at once instead of waiting
    // for an engine that is not coming back.
    ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().orElse("").contains(dir.resolve("state").toString()))
        .forEach(ProcessHandle::destroyForcibly);
    String mounts;
    try {
      mounts = Files.readString(Path.of("/proc/self/mountinfo"));
    } catch (IOException e) {
      return;
    }
    for (String line : mounts.lines().toList()) {
      String[] fields = line.split(" ");
      if (fields.length > 4 && fields[4].startsWith(dir.toString())) {
        Proc.run(QUICK, "umount", "-l", fields[4]);
      }
    }
    Path fuse = dir.resolve("state/devices");
    if (Files.isDirectory(fuse)) {
      try (var entries = Files.list(fuse)) {
        entries.filter(Files::isDirectory).forEach(d -> Proc.run(QUICK, "fusermount3", "-u", "-z", d.toString()));
      } catch (IOException e) {
        // best effort
      }
    }
  }

  /** The block and the ext4 volume both tests stage, publish and take down again. */
  private static final class Volumes {
    final Path dir;
    final Path blockStaging;
    final Path fsStaging;
    final Path blockTarget;
    final Path fsTarget;
    final Csi.VolumeCapability blockCap = CsiClient.block(Mode.SINGLE_NODE_WRITER);
    final Csi.VolumeCapability fsCap = CsiClient.mount("", Mode.SINGLE_NODE_WRITER);

    Volumes(Path dir) throws IOException {
      this.dir = dir;
      Files.createDirectories(dir.resolve("store"));
      blockStaging = dir.resolve("staging/blk");
      fsStaging = dir.resolve("staging/fs");
      blockTarget = dir.resolve("pods/blk/dev");
      fsTarget = dir.resolve("pods/fs/mnt");
    }

    /** Random bytes, also written to dir/pattern for the tools to copy. */
    byte[] pattern(int size, long seed) throws IOException {
      byte[] pattern = new byte[size];
      new Random(seed).nextBytes(pattern);
      Files.write(dir.resolve("pattern"), pattern);
      return pattern;
    }

    void createAndPublish(CsiClient csi, long blockBytes) throws IOException {
      csi.create("blk", blockBytes, blockCap);
      csi.create("fs", 128L << 20, fsCap);
      csi.stageAndPublish("blk", blockStaging, blockTarget, blockCap);
      csi.stageAndPublish("fs", fsStaging, fsTarget, fsCap);
    }

    void unpublishAndUnstage(CsiClient csi) {
      csi.unpublishAndUnstage("blk", blockStaging, blockTarget);
      csi.unpublishAndUnstage("fs", fsStaging, fsTarget);
    }
  }
}
