package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import dev.remap.testkit.Await;
import dev.remap.testkit.Proc;
import dev.remap.testkit.S3ServerProcess;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Online expansion as Kubernetes drives it: ControllerExpandVolume on the controller, then
 * NodeExpandVolume on the node where the volume is published, with the device in use. The
 * device grows without being detached, the new space is written and read through the kernel,
 * a writer running across the growth sees no error, and everything is there after the volume
 * is staged again by a fresh process.
 */
class CsiExpansionTest {

  private static final Duration QUICK = Duration.ofMinutes(2);
  private static final long MIB = 1 << 20;

  /** The Kubernetes layout: the controller and the node plugin are separate processes. */
  @Test
  void aBlockDeviceGrowsUnderAWriterAndKeepsWhatWasWrittenPastItsOldEnd(@TempDir Path dir) throws Exception {
    byte[][] patterns = patterns(dir, 2);
    Csi.VolumeCapability blockCap = CsiClient.block(Mode.SINGLE_NODE_WRITER);
    Path staging = dir.resolve("node/staging/vm");
    Path target = dir.resolve("node/pods/vm/dev");
    try (S3ServerProcess s3 = S3ServerProcess.start(dir.resolve("s3"))) {
      s3.createBucket("volumes");
      String store = s3.storeUri("volumes", "cluster-1");
      Map<String, String> credentials = S3ServerProcess.credentialsEnv();
      try (CsiClient controller = CsiClient.start(dir.resolve("ctl"), "controller", store, "ctl", credentials)) {
        controller.create("vm", 64 * MIB, blockCap);
        try (CsiClient node = CsiClient.start(dir.resolve("node"), "node", store, "node-a", credentials)) {
          node.stageAndPublish("vm", staging, target, blockCap);
          writeAt(dir, target, 0, 40);
          Path device = BlockDevices.sysfs(target);
          long writtenBefore = BlockDevices.bytesWritten(device);
          // fio writes the first 32 MiB over and over with direct I/O, fsyncs, and verifies what it
          // wrote all along: an I/O error or a mismatch while the device grows ends it with a failure.
          Process fio = new ProcessBuilder("fio", "--name=load", "--filename=" + target, "--rw=randwrite",
              "--bs=64k", "--direct=1", "--ioengine=psync", "--size=32M", "--time_based", "--runtime=10",
              "--fsync=8", "--verify=crc32c", "--verify_backlog=16", "--verify_fatal=1", "--exitall_on_error")
              .redirectErrorStream(true).redirectOutput(dir.resolve("fio.log").toFile()).start();
          try {
            // The growth comes once fio is under way (4 MiB of its writes on the device).
            Await.until("fio under way", QUICK, () -> {
              assertThat(fio.isAlive()).as("fio runs when the volume grows").isTrue();
              return BlockDevices.bytesWritten(device) - writtenBefore >= 4 << 20;
            });
            Csi.ControllerExpandVolumeResponse grown = controller.controller.controllerExpandVolume(
                Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId("vm")
                    .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(128 * MIB)).build());
            assertThat(grown.getCapacityBytes()).isEqualTo(128 * MIB);
            assertThat(grown.getNodeExpansionRequired()).isTrue();
            assertThat(deviceSize(target)).as("the node has not grown the device yet").isEqualTo(64 * MIB);

            Csi.NodeExpandVolumeResponse expanded = node.node.nodeExpandVolume(Csi.NodeExpandVolumeRequest.newBuilder()
                .setVolumeId("vm").setVolumePath(target.toString()).setVolumeCapability(blockCap)
                .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(128 * MIB)).build());
            assertThat(expanded.getCapacityBytes()).isEqualTo(128 * MIB);
            assertThat(deviceSize(target)).isEqualTo(128 * MIB);
            writeAt(dir, target, 1, 100); // past the old end, through the same device
            assertThat(readAt(dir, target, 100)).isEqualTo(patterns[1]);
            assertThat(readAt(dir, target, 40)).isEqualTo(patterns[0]);

            assertThat(fio.waitFor(2, TimeUnit.MINUTES)).isTrue();
            String log = Files.readString(dir.resolve("fio.log"));
            assertThat(fio.exitValue()).as("fio: %s", log).isZero();
            assertThat(log).contains("err= 0").doesNotContain("verify:");
          } finally {
            fio.destroyForcibly();
          }
          assertThat(node.node.nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest.newBuilder().setVolumeId("vm")
              .setVolumePath(target.toString()).build()).getUsage(0).getTotal()).isEqualTo(128 * MIB);
          // Asked again (the kubelet retries): nothing more to do, same answer.
          assertThat(node.node.nodeExpandVolume(Csi.NodeExpandVolumeRequest.newBuilder().setVolumeId("vm")
              .setVolumePath(target.toString()).build()).getCapacityBytes()).isEqualTo(128 * MIB);
          // More than the controller gave: the node does not grow volumes on its own.
          assertThatThrownBy(() -> node.node.nodeExpandVolume(Csi.NodeExpandVolumeRequest.newBuilder()
              .setVolumeId("vm").setVolumePath(target.toString())
              .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(256 * MIB)).build()))
              .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(e.getStatus().getDescription()).contains("vm").contains("ControllerExpandVolume");
              });
          node.unpublishAndUnstage("vm", staging, target);
        }
        try (CsiClient fresh = CsiClient.start(dir.resolve("node"), "node", store, "node-a", credentials)) {
          fresh.stageAndPublish("vm", staging, target, blockCap);
          assertThat(deviceSize(target)).isEqualTo(128 * MIB);
          assertThat(readAt(dir, target, 40)).isEqualTo(patterns[0]);
          assertThat(readAt(dir, target, 100)).isEqualTo(patterns[1]);
          fresh.unpublishAndUnstage("vm", staging, target);
        }
      }
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
  }

  /**
   * Filesystems on published volumes: XFS grows mounted. ext4 grows mounted only for a process
   * with CAP_SYS_RESOURCE (a privileged node plugin); without it NodeExpandVolume says so and the
   * filesystem grows when the volume is next staged, before it is mounted.
   */
  @Test
  void filesystemsGrowWhileMountedOrAtTheNextStage(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("store"));
    Csi.VolumeCapability xfs = CsiClient.mount("xfs", Mode.SINGLE_NODE_WRITER);
    Csi.VolumeCapability ext4 = CsiClient.mount("ext4", Mode.SINGLE_NODE_WRITER);
    Path xfsStaging = dir.resolve("staging/xfs");
    Path xfsTarget = dir.resolve("pods/xfs/mnt");
    Path extStaging = dir.resolve("staging/ext");
    Path extTarget = dir.resolve("pods/ext/mnt");
    byte[] pattern = patterns(dir, 1)[0];
    try (CsiClient csi = CsiClient.start(dir)) {
      csi.create("xfs", 320 * MIB, xfs);
      csi.create("ext", 64 * MIB, ext4);
      csi.stageAndPublish("xfs", xfsStaging, xfsTarget, xfs);
      csi.stageAndPublish("ext", extStaging, extTarget, ext4);
      Files.write(xfsTarget.resolve("before.bin"), pattern);
      Files.write(extTarget.resolve("before.bin"), pattern);
      long xfsBefore = Files.getFileStore(xfsTarget).getTotalSpace();
      long extBefore = Files.getFileStore(extTarget).getTotalSpace();

      expandController(csi, "xfs", 640 * MIB);
      expandController(csi, "ext", 128 * MIB);
      csi.node.nodeExpandVolume(Csi.NodeExpandVolumeRequest.newBuilder().setVolumeId("xfs")
          .setVolumePath(xfsTarget.toString()).setVolumeCapability(xfs).build());
      long xfsAfter = Files.getFileStore(xfsTarget).getTotalSpace();
      assertThat(xfsAfter).as("XFS grown in place").isGreaterThan(xfsBefore + 280 * MIB);
      // More than the filesystem could hold before its growth, written where the pod sees it.
      writeZeros(xfsTarget.resolve("big.bin"), 360);
      assertThat(Files.size(xfsTarget.resolve("big.bin"))).isEqualTo(360 * MIB);

      Csi.NodeExpandVolumeRequest extExpand = Csi.NodeExpandVolumeRequest.newBuilder().setVolumeId("ext")
          .setVolumePath(extTarget.toString()).setVolumeCapability(ext4).build();
      if (hasCapSysResource()) {
        csi.node.nodeExpandVolume(extExpand);
      } else {
        assertThatThrownBy(() -> csi.node.nodeExpandVolume(extExpand))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("CAP_SYS_RESOURCE");
            });
        assertThat(Files.getFileStore(extTarget).getTotalSpace()).isEqualTo(extBefore);
        csi.unpublishAndUnstage("ext", extStaging, extTarget);
        csi.stageAndPublish("ext", extStaging, extTarget, ext4);
        csi.node.nodeExpandVolume(extExpand); // already grown at the stage: nothing left to do
      }
      assertThat(Files.getFileStore(extTarget).getTotalSpace()).as("ext4 grown").isGreaterThan(extBefore + 56 * MIB);
      writeZeros(extTarget.resolve("big.bin"), 80);

      csi.unpublishAndUnstage("xfs", xfsStaging, xfsTarget);
      csi.unpublishAndUnstage("ext", extStaging, extTarget);
    }
    try (CsiClient fresh = CsiClient.start(dir)) {
      fresh.stageAndPublish("xfs", xfsStaging, xfsTarget, xfs);
      fresh.stageAndPublish("ext", extStaging, extTarget, ext4);
      assertThat(Files.readAllBytes(xfsTarget.resolve("before.bin"))).isEqualTo(pattern);
      assertThat(Files.readAllBytes(extTarget.resolve("before.bin"))).isEqualTo(pattern);
      assertThat(Files.size(xfsTarget.resolve("big.bin"))).isEqualTo(360 * MIB);
      assertThat(Files.size(extTarget.resolve("big.bin"))).isEqualTo(80 * MIB);
      fresh.unpublishAndUnstage("xfs", xfsStaging, xfsTarget);
      fresh.unpublishAndUnstage("ext", extStaging, extTarget);
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
  }

  private static void expandController(CsiClient csi, String volume, long bytes) {
    assertThat(csi.controller.controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder()
        .setVolumeId(volume).setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(bytes)).build())
        .getCapacityBytes()).isEqualTo(bytes);
  }

  /** CAP_SYS_RESOURCE (bit 24) in this process's effective set, which the driver it starts inherits. */
  private static boolean hasCapSysResource() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("CapEff:")) {
        return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << 24)) != 0;
      }
    }
    return false;
  }

  private static byte[][] patterns(Path dir, int count) throws IOException {
    byte[][] patterns = new byte[count][(int) MIB];
    for (int i = 0; i < count; i++) {
      new Random(100 + i).nextBytes(patterns[i]);
      Files.write(dir.resolve("p" + i), patterns[i]);
    }
    return patterns;
  }

  private static void writeZeros(Path file, int mib) {
    Proc.run(QUICK, "dd", "if=/dev/zero", "of=" + file, "bs=1M", "count=" + mib, "conv=fsync").requireSuccess();
  }

  private static long deviceSize(Path device) {
    return Long.parseLong(Proc.run(QUICK, "blockdev", "--getsize64", device.toString()).requireSuccess().output()
        .strip());
  }

  private static void writeAt(Path dir, Path device, int pattern, int mib) {
    Proc.run(QUICK, "dd", "if=" + dir.resolve("p" + pattern), "of=" + device, "bs=1M", "seek=" + mib, "count=1",
        "oflag=direct", "conv=fsync,notrunc").requireSuccess();
  }

  private static byte[] readAt(Path dir, Path device, int mib) throws IOException {
    Path out = dir.resolve("read-" + mib);
    Proc.run(QUICK, "dd", "if=" + device, "of=" + out, "bs=1M", "skip=" + mib, "count=1", "iflag=direct")
        .requireSuccess();
    return Files.readAllBytes(out);
  }
}
