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
 * published; the restarted plugin reads its persisted state, serves both volumes again and
 * re-makes their mounts at the same paths, where everything written and synced before the kill
 * is found. (With the nbdfuse + loop attach the old devices die with the plugin, so a program
 * that kept a file open across the restart sees I/O errors; docs/CSI.md says why.)
 */
class CsiRestartTest {

  private static final Duration QUICK = Duration.ofMinutes(2);

  @Test
  void aRestartedNodePluginServesStagedVolumesAgain(@TempDir Path dir) throws IOException {
    Files.createDirectories(dir.resolve("store"));
    Path blockStaging = dir.resolve("staging/blk");
    Path fsStaging = dir.resolve("staging/fs");
    Path blockTarget = dir.resolve("pods/blk/dev");
    Path fsTarget = dir.resolve("pods/fs/mnt");
    Csi.VolumeCapability blockCap = CsiClient.block(Mode.SINGLE_NODE_WRITER);
    Csi.VolumeCapability fsCap = CsiClient.mount("", Mode.SINGLE_NODE_WRITER);
    byte[] pattern = new byte[256 << 10];
    new Random(7).nextBytes(pattern);
    Path patternFile = dir.resolve("pattern");
    Files.write(patternFile, pattern);

    CsiClient first = CsiClient.start(dir);
    try {
      first.create("blk", 32L << 20, blockCap);
      first.create("fs", 128L << 20, fsCap);
      publish(first, "blk", blockStaging, blockTarget, blockCap);
      publish(first, "fs", fsStaging, fsTarget, fsCap);
      Proc.run(QUICK, "dd", "if=" + patternFile, "of=" + blockTarget, "bs=256K", "seek=8", "count=1",
          "oflag=direct", "conv=fsync,notrunc").requireSuccess();
      Files.write(fsTarget.resolve("before-kill"), pattern);
      try (FileChannel file = FileChannel.open(fsTarget.resolve("before-kill"), StandardOpenOption.WRITE)) {
        file.force(true);
      }
      first.driver.kill();
    } finally {
      first.close();
    }

    try (CsiClient second = CsiClient.start(dir)) {
      assertThat(Files.readAllBytes(fsTarget.resolve("before-kill"))).isEqualTo(pattern);
      Path readBack = dir.resolve("read-back");
      Proc.run(QUICK, "dd", "if=" + blockTarget, "of=" + readBack, "bs=256K", "skip=8", "count=1",
          "iflag=direct").requireSuccess();
      assertThat(Files.readAllBytes(readBack)).isEqualTo(pattern);
      // The restarted plugin still knows what it published: stage/publish again are no-ops,
      // and unpublish/unstage undo everything.
      publish(second, "fs", fsStaging, fsTarget, fsCap);
      for (String volume : new String[] {"blk", "fs"}) {
        Path target = volume.equals("blk") ? blockTarget : fsTarget;
        Path staging = volume.equals("blk") ? blockStaging : fsStaging;
        second.node.nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volume)
            .setTargetPath(target.toString()).build());
        second.node.nodeUnstageVolume(Csi.NodeUnstageVolumeRequest.newBuilder().setVolumeId(volume)
            .setStagingTargetPath(staging.toString()).build());
      }
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
  }

  private static void publish(CsiClient csi, String volume, Path staging, Path target, Csi.VolumeCapability cap)
      throws IOException {
    Files.createDirectories(staging);
    Files.createDirectories(target.getParent());
    csi.node.nodeStageVolume(Csi.NodeStageVolumeRequest.newBuilder().setVolumeId(volume)
        .setStagingTargetPath(staging.toString()).setVolumeCapability(cap).build());
    csi.node.nodePublishVolume(Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(volume)
        .setStagingTargetPath(staging.toString()).setTargetPath(target.toString()).setVolumeCapability(cap).build());
  }
}
