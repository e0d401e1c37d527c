package dev.remap.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.volume.VolumeOptions;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** --swap-pool: the chart's quantity and the CLI's sizes both read, and what cannot work refused naming the flag. */
class SwapPoolSettingTest {

  @Test
  void chartQuantitiesAndCliSizesAreRead() {
    assertThat(DriverConfig.swapPoolOf("1Gi")).isEqualTo(1L << 30);
    assertThat(DriverConfig.swapPoolOf("1.5Gi")).isEqualTo(3L << 29);
    assertThat(DriverConfig.swapPoolOf("512M")).as("as remap serve --swap-pool reads it").isEqualTo(512L << 20);
    assertThat(DriverConfig.swapPoolOf("0")).isZero();
    assertThatThrownBy(() -> DriverConfig.swapPoolOf("lots")).hasMessageStartingWith("--swap-pool: 'lots'");
  }

  @Test
  void aPoolSmallerThanAPageOrOnAControllerIsRefused() {
    assertThatThrownBy(() -> config(DriverConfig.Mode.NODE, 100)).hasMessageContaining("--swap-pool 100");
    assertThatThrownBy(() -> config(DriverConfig.Mode.CONTROLLER, 1L << 30))
        .hasMessageContaining("--swap-pool").hasMessageContaining("--mode node or all");
    assertThat(config(DriverConfig.Mode.ALL, 1L << 30).swapPool()).isEqualTo(1L << 30);
    assertThat(new DriverConfig(DriverConfig.Mode.NODE, Path.of("/csi.sock"), "n1", "file:///s", Path.of("/j"),
        Path.of("/state"), null, Duration.ZERO, Duration.ZERO).swapPool()).as("tools and tests: no pool").isZero();
  }

  private static DriverConfig config(DriverConfig.Mode mode, long pool) {
    return new DriverConfig(mode, Path.of("/csi.sock"), "n1", "file:///s", Path.of("/j"), Path.of("/state"), null,
        Duration.ZERO, Duration.ZERO, VolumeOptions.Cleaning.defaults(), null, null, null, null, pool);
  }
}
