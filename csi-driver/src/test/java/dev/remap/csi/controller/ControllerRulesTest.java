package dev.remap.csi.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pure rules of the controller: paging, sizing, ids, parameters and capabilities. */
class ControllerRulesTest {

  @Test
  void pagesResumeAfterTheLastKeyEvenWhenEntriesComeAndGo() {
    List<String> names = new ArrayList<>(List.of("a", "b", "c", "d", "e"));
    Paging.Page<String> first = Paging.page(names, s -> s, 2, "");
    assertThat(first.entries()).containsExactly("a", "b");
    names.remove("b");
    names.add(0, "0");
    Paging.Page<String> second = Paging.page(names, s -> s, 2, first.nextToken());
    assertThat(second.entries()).containsExactly("c", "d");
    Paging.Page<String> last = Paging.page(names, s -> s, 2, second.nextToken());
    assertThat(last.entries()).containsExactly("e");
    assertThat(last.nextToken()).isEmpty();
    assertThat(Paging.page(names, s -> s, 0, "").entries()).hasSize(5);
  }

  @Test
  void aTokenThisDriverDidNotIssueIsAborted() {
    assertCode(Status.Code.ABORTED, () -> Paging.page(List.of("a"), s -> s, 1, "invalid-token"));
    assertCode(Status.Code.INVALID_ARGUMENT, () -> Paging.page(List.of("a"), s -> s, -1, ""));
  }

  @Test
  void sizesRoundUpToTheBlockSizeWithinTheRange() {
    assertThat(Sizing.sizeFor("c", range(1, 0), 4096, 1 << 20)).isEqualTo(4096);
    assertThat(Sizing.sizeFor("c", range(0, 0), 4096, 1 << 20)).isEqualTo(Sizing.DEFAULT_SIZE);
    assertThat(Sizing.sizeFor("c", range(0, 8192), 4096, 1 << 20)).isEqualTo(8192);
    assertThat(Sizing.sizeFor("c", range(10_000, 12_288), 4096, 1 << 20)).isEqualTo(12_288);
    assertCode(Status.Code.OUT_OF_RANGE, () -> Sizing.sizeFor("c", range(5000, 6000), 4096, 1 << 20));
    assertCode(Status.Code.OUT_OF_RANGE, () -> Sizing.sizeFor("c", range(1L << 60, 0), 4096, 1 << 20));
    assertCode(Status.Code.INVALID_ARGUMENT, () -> Sizing.sizeFor("c", range(-1, 0), 4096, 1 << 20));
    assertCode(Status.Code.INVALID_ARGUMENT, () -> Sizing.sizeFor("c", range(10, 5), 4096, 1 << 20));
    assertThat(Sizing.satisfies(range(100, 200), 150)).isTrue();
    assertThat(Sizing.satisfies(range(100, 200), 250)).isFalse();
  }

  @Test
  void idsMapOntoStoreNames() {
    assertThat(Ids.volume("pvc-0f3c")).contains("pvc-0f3c");
    assertThat(Ids.volume("no/slash")).isEmpty();
    assertThat(Ids.snapshot("vol@snap")).contains(new Ids.SnapshotId("vol", "snap"));
    assertThat(Ids.snapshot("no-at-sign")).isEmpty();
    assertThat(Ids.snapshot("@snap")).isEmpty();
    assertThat(Ids.cloneSnapshot("pvc-1")).isEqualTo(Ids.cloneSnapshot("pvc-1")).startsWith(Ids.CLONE_PREFIX);
    assertThat(Ids.cloneSnapshot("pvc-1")).isNotEqualTo(Ids.cloneSnapshot("pvc-2"));
    assertThat(Ids.isHidden(Ids.cloneSnapshot("x"))).isTrue();
  }

  @Test
  void parametersAreCheckedAndNamedInErrors() {
    VolumeParameters p = VolumeParameters.parse(Map.of("chunkSize", "4M", "blockSize", "512",
        "ramCacheSize", "64M", "csi.storage.k8s.io/pvc/name", "x"));
    assertThat(p.chunkSizeOrDefault()).isEqualTo(4 << 20);
    assertThat(p.blockSizeOrDefault()).isEqualTo(512);
    assertThat(p.nodeContext()).containsEntry("ramCacheSize", Long.toString(64L << 20));
    assertMessage("chunksize", () -> VolumeParameters.parse(Map.of("chunksize", "4M")));
    assertMessage("chunkSize", () -> VolumeParameters.parse(Map.of("chunkSize", "3M")));
    assertMessage("blockSize", () -> VolumeParameters.parse(Map.of("blockSize", "1024")));
    assertMessage("diskCacheSize", () -> VolumeParameters.parse(Map.of("diskCacheSize", "lots")));
  }

  @Test
  void multiNodeWritersOnlyForBlockAndFilesystemsRemapCanMake() {
    assertThat(Capabilities.unsupported("c", List.of(block(Mode.MULTI_NODE_MULTI_WRITER)))).isEmpty();
    assertThat(Capabilities.unsupported("c", List.of(mount("", Mode.SINGLE_NODE_MULTI_WRITER)))).isEmpty();
    assertThat(Capabilities.unsupported("c", List.of(mount("xfs", Mode.MULTI_NODE_READER_ONLY)))).isEmpty();
    assertThat(Capabilities.unsupported("c", List.of(mount("ext4", Mode.MULTI_NODE_MULTI_WRITER))))
        .hasValueSatisfying(why -> assertThat(why).contains("only for block"));
    assertThat(Capabilities.unsupported("c", List.of(mount("zfs", Mode.SINGLE_NODE_WRITER))))
        .hasValueSatisfying(why -> assertThat(why).contains("zfs"));
    assertCode(Status.Code.INVALID_ARGUMENT, () -> Capabilities.unsupported("c", List.of()));
    assertCode(Status.Code.INVALID_ARGUMENT, () -> Capabilities.unsupported("c", List.of(
        Csi.VolumeCapability.newBuilder().setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance()).build())));
  }

  private static Csi.CapacityRange range(long required, long limit) {
    return Csi.CapacityRange.newBuilder().setRequiredBytes(required).setLimitBytes(limit).build();
  }

  private static Csi.VolumeCapability block(Mode mode) {
    return Csi.VolumeCapability.newBuilder().setBlock(Csi.VolumeCapability.BlockVolume.getDefaultInstance())
        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode)).build();
  }

  private static Csi.VolumeCapability mount(String fs, Mode mode) {
    return Csi.VolumeCapability.newBuilder().setMount(Csi.VolumeCapability.MountVolume.newBuilder().setFsType(fs))
        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder().setMode(mode)).build();
  }

  private static void assertCode(Status.Code code, Runnable call) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(code));
  }

  private static void assertMessage(String part, Runnable call) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).contains(part);
    });
  }
}
