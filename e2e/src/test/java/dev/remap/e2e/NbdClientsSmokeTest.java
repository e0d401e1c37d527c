package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NBD anchors and clients the data-plane tests rely on work against each other here. */
class NbdClientsSmokeTest {

  private static final Duration QUICK = Duration.ofMinutes(2);

  @Test
  void fioWritesAndVerifiesThroughNbdkitAndNbdinfoReadsTheExport(@TempDir Path dir) {
    Path socket = dir.resolve("nbdkit.sock");
    try (BackgroundProcess nbdkit = BackgroundProcess.start(
        RemapPaths.command("nbdkit").toString(), "-f", "-U", socket.toString(), "memory", "64M")) {
      nbdkit.awaitSocket(socket, Duration.ofSeconds(30));
      String uri = "nbd+unix:///?socket=" + socket;

      String size = Proc.run(QUICK, RemapPaths.command("nbdinfo").toString(), "--size", uri)
          .requireSuccess().output().trim();
      assertThat(size).isEqualTo(Long.toString(64L << 20));

      // fio's nbd engine writes a checksummed pattern, then reads it back and verifies it.
      Proc.Result fio = Proc.run(QUICK, RemapPaths.command("fio").toString(),
          "--name=smoke", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite", "--bs=64k",
          "--size=16M", "--iodepth=8", "--verify=crc32c", "--do_verify=1", "--verify_state_save=0",
          "--output-format=terse")
          .requireSuccess();
      assertThat(fio.output()).doesNotContain("verify: bad");

      // What fio wrote is really in the export: nbdinfo's map shows it as allocated data.
      String map = Proc.run(QUICK, RemapPaths.command("nbdinfo").toString(), "--map", uri)
          .requireSuccess().output();
      assertThat(map).contains("data");
    }
  }

  @Test
  void qemuIoWritesAPatternThatNbdcopyReadsBack(@TempDir Path dir) throws Exception {
    Path socket = dir.resolve("nbdkit.sock");
    try (BackgroundProcess nbdkit = BackgroundProcess.start(
        RemapPaths.command("nbdkit").toString(), "-f", "-U", socket.toString(), "memory", "8M")) {
      nbdkit.awaitSocket(socket, Duration.ofSeconds(30));
      String uri = "nbd+unix:///?socket=" + socket;

      Proc.run(QUICK, RemapPaths.command("qemu-io").toString(), "-f", "raw",
          "-c", "write -P 0xa5 1M 512k", uri).requireSuccess();
      Path copy = dir.resolve("copy.raw");
      Proc.run(QUICK, RemapPaths.command("nbdcopy").toString(), uri, copy.toString()).requireSuccess();

      byte[] bytes = java.nio.file.Files.readAllBytes(copy);
      assertThat(bytes).hasSize(8 << 20);
      assertThat(bytes[(1 << 20) - 1]).isZero();
      assertThat(bytes[1 << 20]).isEqualTo((byte) 0xa5);
      assertThat(bytes[(1 << 20) + (512 << 10) - 1]).isEqualTo((byte) 0xa5);
      assertThat(bytes[(1 << 20) + (512 << 10)]).isZero();
    }
  }
}
