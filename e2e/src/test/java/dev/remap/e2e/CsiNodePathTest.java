package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node path through the kernel: a block volume and a filesystem volume are staged and
 * published by `./remap csi`, written through the kernel (dd on the loop device, files on ext4),
 * unpublished and unstaged; then a fresh driver process stages and publishes them again and
 * everything is read back.
 */
class CsiNodePathTest {

  private static final Duration QUICK = Duration.ofMinutes(2);

  @Test
  void writesThroughTheKernelSurviveUnstageAndAFreshProcess(@TempDir Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir.resolve("store"));
    Path staging = dir.resolve("staging");
    Path blockStaging = staging.resolve("blk");
    Path fsStaging = staging.resolve("fs");
    Path blockTarget = dir.resolve("pods/blk/dev");
    Path fsTarget = dir.resolve("pods/fs/mnt");
    byte[] pattern = new byte[1 << 20];
    new Random(42).nextBytes(pattern);
    Path patternFile = dir.resolve("pattern");
    Files.write(patternFile, pattern);
    Csi.VolumeCapability blockCap = CsiClient.block(Mode.SINGLE_NODE_WRITER);
    Csi.VolumeCapability fsCap = CsiClient.mount("ext4", Mode.SINGLE_NODE_WRITER);

    try (CsiClient csi = CsiClient.start(dir)) {
      csi.create("blk", 64L << 20, blockCap);
      csi.create("fs", 256L << 20, fsCap);
      csi.stageAndPublish("blk", blockStaging, blockTarget, blockCap);
      csi.stageAndPublish("fs", fsStaging, fsTarget, fsCap);

      // Through the loop device: 1 MiB at 4 MiB, direct I/O, fsync'd.
      Proc.run(QUICK, "dd", "if=" + patternFile, "of=" + blockTarget, "bs=1M", "seek=4", "count=1",
          "oflag=direct", "conv=fsync,notrunc").requireSuccess();
      // Through ext4: a file KubeVirt would use, and a folder of small ones.
      Files.write(fsTarget.resolve("disk.img"), pattern);
      Files.createDirectories(fsTarget.resolve("notes"));
      for (int i = 0; i < 20; i++) {
        Files.writeString(fsTarget.resolve("notes/" + i + ".txt"), "note " + i);
      }
      try (FileChannel file = FileChannel.open(fsTarget.resolve("disk.img"), StandardOpenOption.WRITE)) {
        file.force(true);
      }

      Csi.NodeGetVolumeStatsResponse stats = csi.node.nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest.newBuilder()
          .setVolumeId("fs").setVolumePath(fsTarget.toString()).build());
      assertThat(stats.getUsage(0).getUnit()).isEqualTo(Csi.VolumeUsage.Unit.BYTES);
      assertThat(stats.getUsage(0).getUsed()).isGreaterThanOrEqualTo(pattern.length);
      Csi.NodeGetVolumeStatsResponse blockStats = csi.node.nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest
          .newBuilder().setVolumeId("blk").setVolumePath(blockTarget.toString()).build());
      assertThat(blockStats.getUsage(0).getTotal()).isEqualTo(64L << 20);

      csi.unpublishAndUnstage("blk", blockStaging, blockTarget);
      csi.unpublishAndUnstage("fs", fsStaging, fsTarget);
      assertThat(blockTarget).doesNotExist();
      assertThat(fsTarget).doesNotExist();
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());

    try (CsiClient fresh = CsiClient.start(dir)) {
      // The class's cache sizes as the controller puts them in the volume context: no RAM tier,
      // a 64 MiB disk tier of the volume's own, which the read-back below fills.
      fresh.stageAndPublish("blk", blockStaging, blockTarget, blockCap,
          Map.of("ramCacheSize", "0", "diskCacheSize", Long.toString(64L << 20)));
      fresh.stageAndPublish("fs", fsStaging, fsTarget, fsCap);
      Path readBack = dir.resolve("read-back");
      Proc.run(QUICK, "dd", "if=" + blockTarget, "of=" + readBack, "bs=1M", "skip=4", "count=1",
          "iflag=direct").requireSuccess();
      assertThat(Files.readAllBytes(readBack)).isEqualTo(pattern);
      Path diskCache = dir.resolve("state/disk-cache/blk");
      long blocks = 0;
      // The tier writes a fetched block's file in the background: it is there within moments.
      for (long end = System.nanoTime() + 10_000_000_000L; blocks == 0 && System.nanoTime() < end; Thread.sleep(20)) {
        try (java.util.stream.Stream<Path> files = Files.list(diskCache)) {
          blocks = files.filter(f -> !f.toString().endsWith(".tmp")).count();
        }
      }
      assertThat(blocks).as("blocks of store objects in the volume's disk tier").isPositive();
      assertThat(Files.readAllBytes(fsTarget.resolve("disk.img"))).isEqualTo(pattern);
      for (int i = 0; i < 20; i++) {
        assertThat(fsTarget.resolve("notes/" + i + ".txt")).hasContent("note " + i);
      }
      fresh.unpublishAndUnstage("blk", blockStaging, blockTarget);
      fresh.unpublishAndUnstage("fs", fsStaging, fsTarget);
      assertThat(dir.resolve("state/disk-cache/blk")).as("its space given back at unstage").doesNotExist();
      fresh.controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId("blk").build());
      fresh.controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId("fs").build());
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
    assertThat(Proc.run(QUICK, RemapPaths.command("losetup").toString(), "-a").output())
        .doesNotContain(dir.toString());
  }

  /**
   * What KubeVirt does for a snapshot of a running VM: CreateSnapshot while the volume is staged
   * and written (the plugin serves it, so the controller takes the snapshot through the served
   * volume), then a clone from that snapshot, staged next to the original, holds exactly what was
   * synced before the snapshot and nothing written after it.
   */
  @Test
  void aSnapshotOfAStagedVolumeHoldsWhatWasSyncedBeforeIt(@TempDir Path dir) throws IOException {
    Files.createDirectories(dir.resolve("store"));
    Csi.VolumeCapability blockCap = CsiClient.block(Mode.SINGLE_NODE_WRITER);
    byte[] before = new byte[1 << 20];
    byte[] after = new byte[1 << 20];
    new Random(1).nextBytes(before);
    new Random(2).nextBytes(after);
    Files.write(dir.resolve("before"), before);
    Files.write(dir.resolve("after"), after);
    Path target = dir.resolve("pods/vm/dev");
    Path cloneTarget = dir.resolve("pods/clone/dev");
    try (CsiClient csi = CsiClient.start(dir)) {
      csi.create("vm", 32L << 20, blockCap);
      csi.stageAndPublish("vm", dir.resolve("staging/vm"), target, blockCap);
      Proc.run(QUICK, "dd", "if=" + dir.resolve("before"), "of=" + target, "bs=1M", "seek=2", "count=1",
          "oflag=direct", "conv=fsync,notrunc").requireSuccess();
      Csi.Snapshot snapshot = csi.controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder()
          .setSourceVolumeId("vm").setName("vm-snap").build()).getSnapshot();
      assertThat(snapshot.getReadyToUse()).isTrue();
      assertThat(snapshot.hasCreationTime()).isTrue();
      Proc.run(QUICK, "dd", "if=" + dir.resolve("after"), "of=" + target, "bs=1M", "seek=2", "count=1",
          "oflag=direct", "conv=fsync,notrunc").requireSuccess();

      csi.controller.createVolume(Csi.CreateVolumeRequest.newBuilder().setName("clone")
          .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(32L << 20))
          .addVolumeCapabilities(blockCap)
          .setVolumeContentSource(Csi.VolumeContentSource.newBuilder().setSnapshot(
              Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snapshot.getSnapshotId())))
          .build());
      csi.stageAndPublish("clone", dir.resolve("staging/clone"), cloneTarget, blockCap);
      Proc.run(QUICK, "dd", "if=" + cloneTarget, "of=" + dir.resolve("clone-read"), "bs=1M", "skip=2", "count=1",
          "iflag=direct").requireSuccess();
      Proc.run(QUICK, "dd", "if=" + target, "of=" + dir.resolve("vm-read"), "bs=1M", "skip=2", "count=1",
          "iflag=direct").requireSuccess();
      assertThat(Files.readAllBytes(dir.resolve("clone-read"))).as("the clone holds the snapshot").isEqualTo(before);
      assertThat(Files.readAllBytes(dir.resolve("vm-read"))).as("the original went on").isEqualTo(after);
      csi.unpublishAndUnstage("clone", dir.resolve("staging/clone"), cloneTarget);
      csi.unpublishAndUnstage("vm", dir.resolve("staging/vm"), target);
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
  }
}
