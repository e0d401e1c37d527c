package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import dev.remap.testkit.Proc;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver laid out as Kubernetes runs it — a controller process and one node plugin process
 * per node, each with its own journal and state, all on one S3 store — and a block volume staged
 * on two nodes at once (MULTI_NODE_MULTI_WRITER, what KubeVirt live migration asks for). Whichever
 * node's kernel device is used gets the volume from the other (the store's lease changes hands),
 * and reads what the other wrote; the controller's snapshot of the volume holds what node A had
 * synced, although only node A's journal had it.
 */
class CsiHandoverTest {

  private static final Duration QUICK = Duration.ofMinutes(2);

  @Test
  void aVolumeStagedOnTwoNodesFollowsItsWriterAndTheControllerSnapshotsWhatANodeWrote(@TempDir Path dir)
      throws IOException {
    byte[][] patterns = new byte[4][1 << 20];
    for (int i = 0; i < patterns.length; i++) {
      new Random(i).nextBytes(patterns[i]);
      Files.write(dir.resolve("p" + i), patterns[i]);
    }
    Csi.VolumeCapability migratable = CsiClient.block(Mode.MULTI_NODE_MULTI_WRITER);
    Path targetA = dir.resolve("a/pods/vm/dev");
    Path targetB = dir.resolve("b/pods/vm/dev");
    Path cloneTarget = dir.resolve("b/pods/clone/dev");
    try (S3ServerProcess s3 = S3ServerProcess.start(dir.resolve("s3"))) {
      s3.createBucket("volumes");
      String store = s3.storeUri("volumes", "cluster-1");
      Map<String, String> credentials = S3ServerProcess.credentialsEnv();
      try (CsiClient controller = CsiClient.start(dir.resolve("ctl"), "controller", store, "ctl-node", credentials);
           CsiClient nodeA = CsiClient.start(dir.resolve("a"), "node", store, "node-a", credentials);
           CsiClient nodeB = CsiClient.start(dir.resolve("b"), "node", store, "node-b", credentials)) {
        controller.create("vm", 64L << 20, migratable);
        nodeA.stageAndPublish("vm", dir.resolve("a/staging/vm"), targetA, migratable);
        nodeB.stageAndPublish("vm", dir.resolve("b/staging/vm"), targetB, migratable);

        writeAt(dir, targetA, 0, 1);
        assertThat(readAt(dir, targetB, 1)).as("node B reads node A's write").isEqualTo(patterns[0]);
        writeAt(dir, targetB, 1, 2);
        assertThat(readAt(dir, targetA, 1)).as("node A reads it back").isEqualTo(patterns[0]);
        assertThat(readAt(dir, targetA, 2)).as("and node B's write").isEqualTo(patterns[1]);

        writeAt(dir, targetA, 2, 3); // synced on node A: in its journal, maybe not in the store yet
        Csi.Snapshot snapshot = controller.controller.createSnapshot(Csi.CreateSnapshotRequest.newBuilder()
            .setSourceVolumeId("vm").setName("vm-snap").build()).getSnapshot();
        assertThat(snapshot.getReadyToUse()).isTrue();
        writeAt(dir, targetA, 3, 3); // after the snapshot: node A takes the volume back

        controller.controller.createVolume(Csi.CreateVolumeRequest.newBuilder().setName("clone")
            .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(64L << 20))
            .addVolumeCapabilities(migratable)
            .setVolumeContentSource(Csi.VolumeContentSource.newBuilder().setSnapshot(
                Csi.VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snapshot.getSnapshotId())))
            .build());
        nodeB.stageAndPublish("clone", dir.resolve("b/staging/clone"), cloneTarget, migratable);
        assertThat(readAt(dir, cloneTarget, 1)).isEqualTo(patterns[0]);
        assertThat(readAt(dir, cloneTarget, 2)).isEqualTo(patterns[1]);
        assertThat(readAt(dir, cloneTarget, 3)).as("what node A synced before the snapshot").isEqualTo(patterns[2]);
        assertThat(readAt(dir, targetB, 3)).as("node A went on after it").isEqualTo(patterns[3]);

        nodeB.unpublishAndUnstage("clone", dir.resolve("b/staging/clone"), cloneTarget);
        nodeB.unpublishAndUnstage("vm", dir.resolve("b/staging/vm"), targetB);
        nodeA.unpublishAndUnstage("vm", dir.resolve("a/staging/vm"), targetA);
        controller.controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId("clone").build());
        controller.controller.deleteVolume(Csi.DeleteVolumeRequest.newBuilder().setVolumeId("vm").build());
      }
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
  }

  /** dd pattern p into MiB number mib of the device, direct and synced. */
  private static void writeAt(Path dir, Path device, int p, int mib) {
    Proc.run(QUICK, "dd", "if=" + dir.resolve("p" + p), "of=" + device, "bs=1M", "seek=" + mib, "count=1",
        "oflag=direct", "conv=fsync,notrunc").requireSuccess();
  }

  private static byte[] readAt(Path dir, Path device, int mib) throws IOException {
    Path out = dir.resolve("read");
    Proc.run(QUICK, "dd", "if=" + device, "of=" + out, "bs=1M", "skip=" + mib, "count=1", "iflag=direct")
        .requireSuccess();
    return Files.readAllBytes(out);
  }
}
