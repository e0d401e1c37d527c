package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad requests get the CSI status code that fits and a message naming the field; the driver keeps
 * serving afterwards. A store that cannot be reached makes Probe fail.
 */
class CsiBadRequestsTest {

  private static final Csi.VolumeCapability BLOCK = CsiClient.block(Mode.SINGLE_NODE_WRITER);

  @Test
  void badRequestsAreAnsweredWithTheRightCodeAndTheDriverKeepsServing(@TempDir Path dir) throws IOException {
    Files.createDirectories(dir.resolve("store"));
    try (CsiClient csi = CsiClient.start(dir)) {
      expect(Status.Code.INVALID_ARGUMENT, "name is required", () -> csi.controller.createVolume(
          Csi.CreateVolumeRequest.newBuilder().addVolumeCapabilities(BLOCK).build()));
      expect(Status.Code.INVALID_ARGUMENT, "volume_capabilities", () -> csi.controller.createVolume(
          Csi.CreateVolumeRequest.newBuilder().setName("v").build()));
      expect(Status.Code.INVALID_ARGUMENT, "MULTI_NODE_MULTI_WRITER", () -> csi.controller.createVolume(
          Csi.CreateVolumeRequest.newBuilder().setName("v")
              .addVolumeCapabilities(CsiClient.mount("ext4", Mode.MULTI_NODE_MULTI_WRITER)).build()));
      expect(Status.Code.INVALID_ARGUMENT, "btrfs", () -> csi.controller.createVolume(
          Csi.CreateVolumeRequest.newBuilder().setName("v")
              .addVolumeCapabilities(CsiClient.mount("btrfs", Mode.SINGLE_NODE_WRITER)).build()));
      expect(Status.Code.INVALID_ARGUMENT, "chunkSiz", () -> csi.controller.createVolume(
          Csi.CreateVolumeRequest.newBuilder().setName("v").addVolumeCapabilities(BLOCK)
              .putParameters("chunkSiz", "1M").build()));
      expect(Status.Code.INVALID_ARGUMENT, "parameter chunkSize", () -> csi.controller.createVolume(
          Csi.CreateVolumeRequest.newBuilder().setName("v").addVolumeCapabilities(BLOCK)
              .putParameters("chunkSize", "3M").build()));
      expect(Status.Code.OUT_OF_RANGE, "capacity_range", () -> csi.controller.createVolume(
          Csi.CreateVolumeRequest.newBuilder().setName("v").addVolumeCapabilities(BLOCK)
              .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1L << 60)).build()));
      expect(Status.Code.OUT_OF_RANGE, "capacity_range", () -> csi.controller.createVolume(
          Csi.CreateVolumeRequest.newBuilder().setName("v").addVolumeCapabilities(BLOCK)
              .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(5000).setLimitBytes(6000)).build()));
      expect(Status.Code.NOT_FOUND, "snapshot_id", () -> csi.controller.createVolume(
          Csi.CreateVolumeRequest.newBuilder().setName("v").addVolumeCapabilities(BLOCK)
              .setVolumeContentSource(Csi.VolumeContentSource.newBuilder().setSnapshot(
                  Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId("nothing@here"))).build()));
      expect(Status.Code.NOT_FOUND, "volume_id", () -> csi.controller.controllerExpandVolume(
          Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId("missing")
              .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(1 << 30)).build()));
      expect(Status.Code.ABORTED, "starting_token", () -> csi.controller.listVolumes(
          Csi.ListVolumesRequest.newBuilder().setStartingToken("42").build()));
      expect(Status.Code.INVALID_ARGUMENT, "staging_target_path", () -> csi.node.nodeStageVolume(
          Csi.NodeStageVolumeRequest.newBuilder().setVolumeId("v").setVolumeCapability(BLOCK).build()));
      expect(Status.Code.NOT_FOUND, "does not exist", () -> csi.node.nodeStageVolume(
          Csi.NodeStageVolumeRequest.newBuilder().setVolumeId("missing").setVolumeCapability(BLOCK)
              .setStagingTargetPath(dir.resolve("staging").toString()).build()));

      csi.create("a", 1 << 20, BLOCK);
      csi.create("b", 1 << 20, BLOCK);
      expect(Status.Code.ALREADY_EXISTS, "capacity_range", () -> csi.create("a", 2 << 20, BLOCK));
      csi.controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder().setSourceVolumeId("a").setName("s").build());
      expect(Status.Code.ALREADY_EXISTS, "for volume a", () -> csi.controller.createSnapshot(
          Csi.CreateSnapshotRequest.newBuilder().setSourceVolumeId("b").setName("s").build()));
      expect(Status.Code.FAILED_PRECONDITION, "not staged", () -> csi.node.nodePublishVolume(
          Csi.NodePublishVolumeRequest.newBuilder().setVolumeId("a").setVolumeCapability(BLOCK)
              .setStagingTargetPath(dir.resolve("staging").toString())
              .setTargetPath(dir.resolve("target").toString()).build()));

      // Still serving, and the clone of a volume is a volume whose source is that volume.
      assertThat(csi.identity.probe(Csi.ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
      Csi.Volume clone = csi.controller.createVolume(Csi.CreateVolumeRequest.newBuilder().setName("c")
          .addVolumeCapabilities(BLOCK).setVolumeContentSource(Csi.VolumeContentSource.newBuilder()
              .setVolume(Csi.VolumeContentSource.VolumeSource.newBuilder().setVolumeId("a"))).build()).getVolume();
      assertThat(clone.getContentSource().getVolume().getVolumeId()).isEqualTo("a");
      assertThat(csi.controller.listSnapshots(Csi.ListSnapshotsRequest.getDefaultInstance()).getEntriesList())
          .extracting(e -> e.getSnapshot().getSnapshotId()).containsExactly("a@s");
    }
  }

  @Test
  void probeFailsWhileTheStoreIsUnreachable(@TempDir Path dir) {
    // Nothing listens on port 1 of the loopback address: the store is unreachable.
    String store = "s3://bucket/prefix?endpoint=http://127.0.0.1:1&region=us-east-1&pathStyle=true";
    try (CsiClient csi = CsiClient.start(dir, "controller", store)) {
      expect(Status.Code.UNAVAILABLE, "store", () -> csi.identity.probe(Csi.ProbeRequest.getDefaultInstance()));
      assertThat(csi.identity.getPluginInfo(Csi.GetPluginInfoRequest.getDefaultInstance()).getName())
          .isEqualTo("csi.remap.dev");
    }
  }

  private static void expect(Status.Code code, String messagePart, ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).contains(messagePart);
    });
  }
}
