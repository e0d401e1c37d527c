package dev.remap.csi.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's persisted record survives a round trip through its file and a reload. */
class StagedVolumeTest {

  @Test
  void recordsRoundTripThroughTheStateFolder(@TempDir Path dir) throws IOException {
    StagedVolume staged = new StagedVolume("pvc-1", Path.of("/var/lib/kubelet/staging/x y"), false, "ext4", false,
        "SINGLE_NODE_WRITER", new LoopAttacher.Attachment("/dev/loop7", dir.resolve("fuse/pvc-1"), 1234), Map.of())
        .withTarget(Path.of("/pods/a"), false).withTarget(Path.of("/pods/b"), true);
    NodeState state = NodeState.load(dir);
    state.put(staged);
    NodeState reloaded = NodeState.load(dir);
    assertThat(reloaded.get("pvc-1")).contains(staged);
    reloaded.put(staged.withoutTarget(Path.of("/pods/a")));
    assertThat(NodeState.load(dir).get("pvc-1").orElseThrow().targets()).containsOnlyKeys(Path.of("/pods/b"));
    reloaded.remove("pvc-1");
    assertThat(NodeState.load(dir).all()).isEmpty();
  }

  @Test
  void cacheSizesAreKeptAndCarriedThroughChanges(@TempDir Path dir) throws IOException {
    CacheSizes sizes = new CacheSizes(OptionalLong.of(0), OptionalLong.of(512L << 20));
    StagedVolume staged = new StagedVolume("pvc-2", Path.of("/staging/pvc-2"), true, "", false, "SINGLE_NODE_WRITER",
        new LoopAttacher.Attachment("/dev/loop3", dir.resolve("fuse/pvc-2"), 99), Map.of(), sizes);
    NodeState state = NodeState.load(dir);
    state.put(staged.withTarget(Path.of("/pods/c"), false));
    StagedVolume reloaded = NodeState.load(dir).get("pvc-2").orElseThrow();
    assertThat(reloaded.caches()).isEqualTo(sizes);
    assertThat(reloaded.withoutTarget(Path.of("/pods/c")).caches()).isEqualTo(sizes);
    assertThat(NodeStartup.load(dir).cacheSizes()).containsExactly(Map.entry("pvc-2", sizes));
  }

  @Test
  void cacheSizesComeFromTheVolumeContextAndABadOneIsNamed() {
    assertThat(CacheSizes.fromContext(Map.of("diskCacheSize", "1073741824")))
        .isEqualTo(new CacheSizes(OptionalLong.empty(), OptionalLong.of(1L << 30)));
    assertThat(CacheSizes.fromContext(Map.of())).isEqualTo(CacheSizes.NONE);
    assertThatThrownBy(() -> CacheSizes.fromContext(Map.of("diskCacheSize", "1G")))
        .hasMessageContaining("volume_context.diskCacheSize: '1G' is not a number of bytes");
  }

  @Test
  void kernelClientAttachmentsRoundTripAndOlderRecordsReadAsNbdfuse(@TempDir Path dir) throws IOException {
    LoopAttacher.Attachment kernel = new LoopAttacher.Attachment(AttachMethod.NBD_CLIENT, "/dev/loop4",
        dir.resolve("devices/pvc-3"), 4321, "/dev/nbd2");
    StagedVolume staged = new StagedVolume("pvc-3", Path.of("/staging/pvc-3"), true, "", false, "SINGLE_NODE_WRITER",
        kernel, Map.of());
    NodeState.load(dir).put(staged);
    assertThat(NodeState.load(dir).get("pvc-3").orElseThrow().attachment()).isEqualTo(kernel);

    // A record written before there were two methods: nbdfuse, backed by the file in its folder.
    String older = String.join("\n", "volume=pvc-4", "stagingPath=/staging/pvc-4", "block=true", "fsType=",
        "readOnly=false", "accessMode=SINGLE_NODE_WRITER", "device=/dev/loop5", "fuseDir=/state/fuse/pvc-4",
        "nbdfusePid=77", "");
    assertThat(StagedVolume.decode(older, "staged/pvc-4.properties").attachment()).isEqualTo(new LoopAttacher
        .Attachment(AttachMethod.NBDFUSE_LOOP, "/dev/loop5", Path.of("/state/fuse/pvc-4"), 77, "/state/fuse/pvc-4/disk"));
  }

  @Test
  void aDamagedRecordNamesItsFile() {
    assertThatThrownBy(() -> StagedVolume.decode("volume=x\n", "staged/x.properties"))
        .isInstanceOf(IOException.class).hasMessageContaining("staged/x.properties").hasMessageContaining("stagingPath");
  }
}
