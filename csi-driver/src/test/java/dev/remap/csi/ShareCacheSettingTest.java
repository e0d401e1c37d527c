package dev.remap.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.volume.VolumeOptions;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** --share-cache: the CLI's sizes and a chart's quantities both read; a negative size refused naming the flag. */
class ShareCacheSettingTest {

  @Test
  void sizesAndQuantitiesAreRead() {
    assertThat(DriverConfig.shareCacheOf("1Gi")).isEqualTo(1L << 30);
    assertThat(DriverConfig.shareCacheOf("512M")).isEqualTo(512L << 20);
    assertThat(DriverConfig.shareCacheOf("0")).as("no cache").isZero();
    assertThatThrownBy(() -> DriverConfig.shareCacheOf("big")).hasMessageStartingWith("--share-cache: 'big'");
  }

  @Test
  void aNegativeSizeIsRefusedAndToolsGetNoCache() {
    assertThatThrownBy(() -> config(-1)).hasMessageContaining("--share-cache -1");
    assertThat(config(1L << 30).shareCache()).isEqualTo(1L << 30);
    assertThat(new DriverConfig(DriverConfig.Mode.NODE, Path.of("/csi.sock"), "n1", "file:///s", Path.of("/j"),
        Path.of("/state"), null, Duration.ZERO, Duration.ZERO).shareCache()).as("tools and tests: no cache").isZero();
  }

  private static DriverConfig config(long shareCache) {
    return new DriverConfig(DriverConfig.Mode.NODE, Path.of("/csi.sock"), "n1", "file:///s", Path.of("/j"),
        Path.of("/state"), null, Duration.ZERO, Duration.ZERO, VolumeOptions.Cleaning.defaults(), null, null, null,
        null, 0, shareCache);
  }
}
