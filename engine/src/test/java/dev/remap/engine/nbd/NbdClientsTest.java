package dev.remap.engine.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server as the standard NBD clients see it: qemu-img, qemu-io, nbdinfo, nbdcopy and fio's
 * nbd engine, over the Unix socket and over TCP, against volumes of a real file store.
 */
class NbdClientsTest {

  private static final Duration QUICK = Duration.ofMinutes(2);
  private static final long MIB = 1 << 20;

  @TempDir Path tmp;
  private ServedStore served;

  @BeforeEach
  void serve() throws Exception {
    served = ServedStore.start(tmp).volume("vm1", 64 * MIB);
  }

  @AfterEach
  void stop() throws Exception {
    served.close();
  }

  static Proc.Result run(Duration timeout, String command, String... args) {
    List<String> all = new ArrayList<>();
    all.add(RemapPaths.command(command).toString());
    all.addAll(List.of(args));
    return Proc.run(timeout, all.toArray(String[]::new)).requireSuccess();
  }

  /** nbdinfo --map as (offset, length, type) rows. */
  static List<long[]> map(String uri) {
    List<long[]> rows = new ArrayList<>();
    for (String line : run(QUICK, "nbdinfo", "--map", uri).output().split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 3 && f[0].matches("\\d+")) {
        rows.add(new long[] {Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])});
      }
    }
    return rows;
  }

  @Test
  void qemuImgSeesTheVolumeAndConvertsAnImageInAndOut() throws Exception {
    assertThat(run(QUICK, "qemu-img", "info", served.uri("vm1")).output()).contains("virtual size: 64 MiB");

    byte[] image = new byte[(int) (16 * MIB)];
    new Random(1).nextBytes(image);
    Files.write(tmp.resolve("in.raw"), image);
    run(QUICK, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", tmp.resolve("in.raw").toString(), served.uri("vm1"));
    run(QUICK, "qemu-img", "convert", "-f", "raw", "-O", "raw", served.uri("vm1"), tmp.resolve("out.raw").toString());

    byte[] out = Files.readAllBytes(tmp.resolve("out.raw"));
    assertThat(out).hasSize((int) (64 * MIB));
    assertThat(java.util.Arrays.copyOf(out, image.length)).isEqualTo(image);
    assertThat(java.util.Arrays.copyOfRange(out, image.length, out.length)).containsOnly(0);
  }

  @Test
  void qemuIoPatternsReadBackAlignedAndUnalignedOverUnixAndTcp() {
    for (String uri : List.of(served.uri("vm1"), served.tcpUri("vm1"))) {
      String out = run(QUICK, "qemu-io", "-f", "raw",
          "-c", "write -P 0xa5 0 1M",
          "-c", "write -P 0x3c 1000 3000",       // unaligned: the minimum block size is 1
          "-c", "write -f -P 0x77 8M 512k",      // FUA
          "-c", "flush",
          "-c", "read -P 0xa5 0 1000",
          "-c", "read -P 0x3c 1000 3000",
          "-c", "read -P 0xa5 4000 1044576",
          "-c", "read -P 0x77 8M 512k",
          "-c", "read -P 0 9M 1M",
          uri).output();
      assertThat(out).doesNotContain("Pattern verification failed").doesNotContain("error");
    }
  }

  @Test
  void nbdinfoMapShowsHolesAfterTrimAndZeroesAfterWriteZeroes() {
    String uri = served.uri("vm1");
    run(QUICK, "qemu-io", "-f", "raw",
        "-c", "write -P 1 0 8M",
        "-c", "discard 1M 1M",          // TRIM: a hole that reads as zeroes
        "-c", "write -z 3M 1M",         // WRITE_ZEROES with NO_HOLE: allocated zeroes
        "-c", "write -z -u 5M 1M",      // WRITE_ZEROES that may unmap: a hole
        uri);
    List<long[]> rows = map(uri);
    assertThat(rows).extracting(r -> r[0] + " " + r[1] + " " + r[2]).containsExactly(
        "0 " + MIB + " 0",
        MIB + " " + MIB + " 3",
        2 * MIB + " " + MIB + " 0",
        3 * MIB + " " + MIB + " 2",
        4 * MIB + " " + MIB + " 0",
        5 * MIB + " " + MIB + " 3",
        6 * MIB + " " + 2 * MIB + " 0",
        8 * MIB + " " + 56 * MIB + " 3");
    String reads = run(QUICK, "qemu-io", "-f", "raw", "-c", "read -P 0 1M 1M", "-c", "read -P 0 3M 1M",
        "-c", "read -P 0 5M 1M", "-c", "read -P 1 6M 2M", uri).output();
    assertThat(reads).doesNotContain("Pattern verification failed");
  }

  @Test
  void nbdinfoListsVolumesAndSnapshotsAndDescribesTheExport() throws Exception {
    served.volume("vm2", 8 * MIB);
    served.volumes.snapshot("vm2", "s1");
    String list = run(QUICK, "nbdinfo", "--list", "nbd+unix:///?socket=" + served.socket).output();
    assertThat(list).contains("export=\"vm1\"").contains("export=\"vm2\"").contains("export=\"vm2@s1\"");
    String info = run(QUICK, "nbdinfo", served.uri("vm1")).output();
    assertThat(info).contains("export-size: " + 64 * MIB).contains("can_multi_conn: true")
        .contains("can_fua: true").contains("can_trim: true").contains("can_zero: true")
        .contains("can_fast_zero: true").contains("can_df: true").contains("block_size_minimum: 1")
        .contains("block_size_preferred: 4096").contains("block_size_maximum: 33554432")
        .contains("base:allocation");
    assertThat(run(QUICK, "nbdinfo", served.uri("vm2@s1")).output()).contains("is_read_only: true");
  }

  @Test
  void fioVerifiesCrc32cWithManyRequestsInFlightOnTwoConnections() {
    Proc.Result fio = run(Duration.ofMinutes(4), "fio", "--name=verify", "--ioengine=nbd", "--uri=" + served.uri("vm1"),
        "--rw=randwrite", "--bsrange=4k-128k", "--iodepth=32", "--numjobs=2",
        "--offset_increment=16M", "--size=16M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
        "--verify_state_save=0", "--group_reporting");
    assertThat(fio.output()).contains("err= 0").doesNotContain("verify: bad");
  }

  @Test
  void nbdcopyRoundTripsAOneGibibyteImage() throws Exception {
    served.volume("big", 1024 * MIB);
    Path in = tmp.resolve("in.raw");
    // Random data, with zero runs nbdcopy turns into WRITE_ZEROES and holes it skips.
    try (var out = Files.newOutputStream(in)) {
      Random random = new Random(7);
      byte[] block = new byte[(int) MIB];
      for (int i = 0; i < 1024; i++) {
        if (i % 16 == 5) {
          java.util.Arrays.fill(block, (byte) 0);
        } else {
          random.nextBytes(block);
        }
        out.write(block);
      }
    }
    run(Duration.ofMinutes(5), "nbdcopy", in.toString(), served.uri("big"));
    Path back = tmp.resolve("back.raw");
    run(Duration.ofMinutes(5), "nbdcopy", served.uri("big"), back.toString());
    run(Duration.ofMinutes(2), "cmp", in.toString(), back.toString());
  }
}
