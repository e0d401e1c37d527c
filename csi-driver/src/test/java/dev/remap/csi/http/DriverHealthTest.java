package dev.remap.csi.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.csi.CsiDriver;
import dev.remap.csi.DriverConfig;
import dev.remap.engine.volume.VolumeOptions;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /healthz of a real driver: 200 while its CSI server answers Probe over its socket and its NBD
 * server runs; 500 with the reason once either is gone. Nothing is faked: the socket files are
 * removed, as a stray cleanup on the host would.
 */
class DriverHealthTest {

  @TempDir Path tmp;

  private CsiDriver start(DriverConfig.Mode mode) throws Exception {
    Files.createDirectories(tmp.resolve("store"));
    return CsiDriver.start(new DriverConfig(mode, tmp.resolve("csi.sock"), "node-a", "file://" + tmp.resolve("store"),
        tmp.resolve("journal"), tmp.resolve("state"), null, Duration.ZERO, Duration.ZERO,
        VolumeOptions.Cleaning.defaults(), null, null, HttpAddress.parse("127.0.0.1:0", false).orElseThrow(), null), "test");
  }

  @Test
  void healthzFailsWithTheReasonWhenTheCsiSocketIsGone() throws Exception {
    try (CsiDriver driver = start(DriverConfig.Mode.CONTROLLER)) {
      InetSocketAddress http = driver.httpAddress().orElseThrow();
      assertThat(Http.get(http, "/healthz")).isEqualTo(new Http.Answer(200, "ok\n"));

      Files.delete(tmp.resolve("csi.sock"));
      Http.Answer health = Http.get(http, "/healthz");
      assertThat(health.status()).isEqualTo(500);
      assertThat(health.body()).startsWith("the CSI Probe over " + tmp.resolve("csi.sock") + " failed: UNAVAILABLE")
          .endsWith("\n").hasLineCount(1);
    }
  }

  @Test
  void healthzOfANodeFailsWhenItsNbdServerCannotBeReached() throws Exception {
    try (CsiDriver driver = start(DriverConfig.Mode.NODE)) {
      InetSocketAddress http = driver.httpAddress().orElseThrow();
      assertThat(Http.get(http, "/healthz").status()).isEqualTo(200);

      Files.delete(tmp.resolve("state/nbd.sock"));
      assertThat(Http.get(http, "/healthz"))
          .isEqualTo(new Http.Answer(500, "the NBD socket " + tmp.resolve("state/nbd.sock") + " is gone\n"));
    }
  }
}
