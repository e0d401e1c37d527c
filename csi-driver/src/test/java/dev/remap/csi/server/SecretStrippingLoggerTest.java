package dev.remap.csi.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.remap.csi.spec.Csi;
import org.junit.jupiter.api.Test;

/** Secrets never reach a log line: every field the spec marks csi_secret, at any depth. */
class SecretStrippingLoggerTest {

  @Test
  void secretValuesAndMountFlagsAreMaskedKeysAndEverythingElseKept() {
    Csi.NodeStageVolumeRequest request = Csi.NodeStageVolumeRequest.newBuilder()
        .setVolumeId("pvc-1")
        .putSecrets("password", "hunter2")
        .setVolumeCapability(Csi.VolumeCapability.newBuilder()
            .setMount(Csi.VolumeCapability.MountVolume.newBuilder().setFsType("ext4").addMountFlags("key=s3cr3t")))
        .build();
    Message stripped = SecretStrippingLogger.stripped(request);
    String text = stripped.toString();
    assertThat(text).doesNotContain("hunter2").doesNotContain("s3cr3t");
    assertThat(text).contains("password").contains("pvc-1").contains("ext4");
    assertThat(request.getSecretsMap()).containsEntry("password", "hunter2"); // the request itself is untouched
  }

  @Test
  void everyRequestWithSecretsIsCovered() {
    for (Message m : new Message[] {
        Csi.CreateVolumeRequest.newBuilder().putSecrets("k", "v1").build(),
        Csi.DeleteVolumeRequest.newBuilder().putSecrets("k", "v2").build(),
        Csi.CreateSnapshotRequest.newBuilder().putSecrets("k", "v3").build(),
        Csi.NodePublishVolumeRequest.newBuilder().putSecrets("k", "v4").build(),
        Csi.ControllerExpandVolumeRequest.newBuilder().putSecrets("k", "v5").build()}) {
      assertThat(SecretStrippingLogger.stripped(m).toString()).doesNotContainPattern("v[1-5]");
    }
  }
}
