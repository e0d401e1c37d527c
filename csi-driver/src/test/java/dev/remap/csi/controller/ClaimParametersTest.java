package dev.remap.csi.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClaimParametersTest {

  @Test
  void annotationsOverTheClassInBytesAsKubernetesCountsThem() {
    Map<String, String> merged = ClaimParameters.merge(
        Map.of("chunkSize", "1M", "ramCacheSize", "256M", "csi.storage.k8s.io/pvc/name", "d1"),
        Map.of("remap.dev/chunk-size", "256Ki", "remap.dev/block-size", "512", "remap.dev/disk-cache-size", "1G",
            "remap.dev/virtual-disk", "d1"), "ns/d1");
    assertThat(merged).containsEntry("chunkSize", "262144").containsEntry("blockSize", "512")
        .containsEntry("diskCacheSize", "1000000000") // 1G is decimal in Kubernetes
        .containsEntry("ramCacheSize", "256M") // the class's, no annotation for it
        .doesNotContainKey("remap.dev/virtual-disk");
    VolumeParameters parsed = VolumeParameters.parse(merged);
    assertThat(parsed.chunkSizeOrDefault()).isEqualTo(256 << 10);
    assertThat(parsed.blockSizeOrDefault()).isEqualTo(512);
  }

  @Test
  void aBadAnnotationIsInvalidArgumentNamingItAndTheClaim() {
    assertThatThrownBy(() -> ClaimParameters.merge(Map.of(), Map.of("remap.dev/chunk-size", "1.5"), "ns/d1"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("remap.dev/chunk-size").contains("ns/d1");
        });
  }
}
