package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Swap volumes (a VmMemorySwap's disk, issue 16) through a real `./remap csi` node: staged from
 * the volume attributes the operator writes, the published block device is a swap area with its
 * label that the kernel reads and writes; unstaged, the disk is gone from the node's NBD server.
 * Bad attributes, a node without a pool and a full pool get their gRPC codes; a plugin killed
 * while a swap volume is staged makes its disk again, empty, and the pages from before read as
 * I/O errors, never as zeros.
 */
class CsiSwapTest {

  private static final Duration QUICK = Duration.ofMinutes(2);
  private static final String ID = "swap/vms/web";
  private static final long SIZE = 16L << 20;
  private static final int PAGE = 4096;

  private static Map<String, String> context(long memoryLimit) {
    Map<String, String> context = new HashMap<>();
    context.put("remap.dev/kind", "swap");
    context.put("remap.dev/swap-size", Long.toString(SIZE));
    context.put("remap.dev/swap-memory-limit", Long.toString(memoryLimit));
    context.put("remap.dev/swap-discard", "true");
    context.put("remap.dev/swap-label", "webswap");
    return context;
  }

  private static CsiClient node(Path dir, String pool, int httpPort) {
    return CsiClient.start(dir, "all", "file://" + dir.resolve("store"), "node-a", Map.of(), "--swap-pool", pool,
        "--http-address", "127.0.0.1:" + httpPort);
  }

  @Test
  void aStagedSwapVolumeIsALabelledSwapDeviceAndIsGoneAfterUnstage(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("store"));
    Path staging = dir.resolve("staging/swap");
    Path target = dir.resolve("pods/vm/swap");
    Csi.VolumeCapability cap = CsiClient.block(Mode.SINGLE_NODE_WRITER);
    int port = freePort();
    byte[] pattern = new byte[1 << 20];
    new Random(16).nextBytes(pattern);
    Files.write(dir.resolve("pattern"), pattern);

    try (CsiClient csi = node(dir, "64M", port)) {
      csi.stageAndPublish(ID, staging, target, cap, context(SIZE));
      assertThat(Proc.run(QUICK, "blockdev", "--getsize64", target.toString()).requireSuccess().output().strip())
          .isEqualTo(Long.toString(SIZE));
      String blkid = Proc.run(QUICK, "blkid", "-p", "-o", "export", target.toString()).requireSuccess().output();
      assertThat(blkid).contains("TYPE=swap").contains("LABEL=webswap");
      assertThat(exports(dir)).contains(ID);

      Proc.run(QUICK, "dd", "if=" + dir.resolve("pattern"), "of=" + target, "bs=1M", "seek=4", "count=1",
          "oflag=direct", "conv=notrunc").requireSuccess();
      Proc.run(QUICK, "dd", "if=" + target, "of=" + dir.resolve("read-back"), "bs=1M", "skip=4", "count=1",
          "iflag=direct").requireSuccess();
      assertThat(Files.readAllBytes(dir.resolve("read-back"))).isEqualTo(pattern);

      Csi.NodeGetVolumeStatsResponse stats = csi.node.nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest.newBuilder()
          .setVolumeId(ID).setVolumePath(target.toString()).build());
      assertThat(stats.getUsage(0).getTotal()).isEqualTo(SIZE);
      // The engine's counters of this disk on the node's /metrics: the 256 pages written above at least.
      assertThat(metric(port, "remap_swap_swap_outs_total", ID)).isGreaterThanOrEqualTo(256);
      assertThat(metric(port, "remap_swap_resident_bytes", ID)).isGreaterThanOrEqualTo(1 << 20);

      // Idempotent: the same stage again is OK; other attributes for the same id are not.
      csi.node.nodeStageVolume(stage(ID, staging, cap, context(SIZE)));
      assertThat(code(() -> csi.node.nodeStageVolume(stage(ID, staging, cap, context(2 * SIZE)))))
          .isEqualTo(Status.Code.ALREADY_EXISTS);

      csi.unpublishAndUnstage(ID, staging, target);
      assertThat(target).doesNotExist();
      assertThat(exports(dir)).doesNotContain(ID);
      assertThat(metrics(port)).doesNotContain("disk=\"" + ID + "\"");
      csi.unpublishAndUnstage(ID, staging, target);
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
    assertThat(Proc.run(QUICK, RemapPaths.command("losetup").toString(), "-a").output()).doesNotContain(dir.toString());
  }

  @Test
  void badSwapVolumesGetTheirCodesAndTheDriverServesOn(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("store"));
    Path staging = dir.resolve("staging/swap");
    Csi.VolumeCapability cap = CsiClient.block(Mode.SINGLE_NODE_WRITER);
    Path notADirectory = Files.writeString(dir.resolve("a-file"), "x");
    try (CsiClient csi = node(dir, "32M", freePort())) {
      Map<String, String> badSize = context(SIZE);
      badSize.put("remap.dev/swap-size", "1000");
      assertStatus(() -> csi.node.nodeStageVolume(stage(ID, staging, cap, badSize)), Status.Code.INVALID_ARGUMENT,
          "remap.dev/swap-size");
      Map<String, String> badSpill = context(SIZE / 2);
      badSpill.put("remap.dev/swap-spill-size", Long.toString(SIZE));
      badSpill.put("remap.dev/swap-spill-location", notADirectory.toString());
      assertStatus(() -> csi.node.nodeStageVolume(stage(ID, staging, cap, badSpill)), Status.Code.INVALID_ARGUMENT,
          "spill.location");
      Map<String, String> tooLarge = context(64L << 20);
      tooLarge.put("remap.dev/swap-size", Long.toString(64L << 20));
      StatusRuntimeException full = catchStatus(() -> csi.node.nodeStageVolume(stage(ID, staging, cap, tooLarge)));
      assertThat(full.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(full.getStatus().getDescription()).startsWith("PoolExhausted:").contains(Long.toString(32L << 20));
      assertStatus(() -> csi.node.nodeStageVolume(stage(ID, staging, CsiClient.mount("ext4", Mode.SINGLE_NODE_WRITER),
          context(SIZE))), Status.Code.INVALID_ARGUMENT, "cannot be mounted");

      // A swap disk cannot grow, and says so; nothing is asked of the store for it.
      csi.node.nodeStageVolume(stage(ID, staging, cap, context(SIZE)));
      assertStatus(() -> csi.node.nodeExpandVolume(Csi.NodeExpandVolumeRequest.newBuilder().setVolumeId(ID)
          .setVolumePath(staging.toString()).setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(2 * SIZE))
          .build()), Status.Code.FAILED_PRECONDITION, "is a swap disk");
      // The pool holds 16 MiB of this disk: a second one of 32 MiB does not fit beside it.
      Map<String, String> second = context(32L << 20);
      second.put("remap.dev/swap-size", Long.toString(32L << 20));
      assertStatus(() -> csi.node.nodeStageVolume(stage("swap/vms/db", dir.resolve("staging/db"), cap, second)),
          Status.Code.RESOURCE_EXHAUSTED, "PoolExhausted:");
      csi.node.nodeUnstageVolume(Csi.NodeUnstageVolumeRequest.newBuilder().setVolumeId(ID)
          .setStagingTargetPath(staging.toString()).build());
      // Its memory is back in the pool: the 32 MiB one fits now.
      csi.node.nodeStageVolume(stage("swap/vms/db", dir.resolve("staging/db"), cap, second));
      csi.node.nodeUnstageVolume(Csi.NodeUnstageVolumeRequest.newBuilder().setVolumeId("swap/vms/db")
          .setStagingTargetPath(dir.resolve("staging/db").toString()).build());
      assertThat(exports(dir)).doesNotContain(ID).doesNotContain("swap/vms/db");
      assertThat(csi.identity.probe(Csi.ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
    }
    assertThat(Proc.run(QUICK, RemapPaths.command("losetup").toString(), "-a").output()).doesNotContain(dir.toString());
  }

  @Test
  void aNodeWithoutASwapPoolRefusesSwapVolumes(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("store"));
    try (CsiClient csi = CsiClient.start(dir)) {
      assertStatus(() -> csi.node.nodeStageVolume(stage(ID, dir.resolve("staging"),
          CsiClient.block(Mode.SINGLE_NODE_WRITER), context(SIZE))), Status.Code.FAILED_PRECONDITION,
          "node node-a has no swap pool");
    }
  }

  /**
   * The swap disk's pages die with the plugin. The restarted plugin makes the disk again, with
   * its signature, and the device reconnects to it: new swap-outs work, and a page swapped out
   * before the kill reads as an I/O error, not as the zeros the new disk holds there. (Read
   * straight from the node's NBD socket, where the engine's answer is seen as it is.)
   */
  @Test
  void aRestartedPluginMakesTheDiskAgainAndPagesFromBeforeFail(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("store"));
    Path staging = dir.resolve("staging/swap");
    Path target = dir.resolve("pods/vm/swap");
    Csi.VolumeCapability cap = CsiClient.block(Mode.SINGLE_NODE_WRITER);
    byte[] before = new byte[PAGE];
    byte[] after = new byte[PAGE];
    new Random(1).nextBytes(before);
    new Random(2).nextBytes(after);
    Files.write(dir.resolve("before"), before);
    Files.write(dir.resolve("after"), after);

    CsiClient first = node(dir, "64M", freePort());
    try {
      first.stageAndPublish(ID, staging, target, cap, context(SIZE));
      Proc.run(QUICK, "dd", "if=" + dir.resolve("before"), "of=" + target, "bs=4096", "seek=100", "count=1",
          "oflag=direct", "conv=notrunc").requireSuccess();
      first.driver.kill();
    } finally {
      first.close();
    }
    try (CsiClient second = node(dir, "64M", freePort())) {
      Proc.run(QUICK, "dd", "if=" + target, "of=" + dir.resolve("page0"), "bs=4096", "count=1", "iflag=direct")
          .requireSuccess();
      byte[] page0 = Files.readAllBytes(dir.resolve("page0"));
      assertThat(new String(page0, PAGE - 10, 10, StandardCharsets.US_ASCII)).isEqualTo("SWAPSPACE2");
      // struct swap_header_v1_2: 1024 boot bytes, version, last_page, nr_badpages, a 16-byte UUID, the label.
      assertThat(new String(page0, 1052, 7, StandardCharsets.US_ASCII)).isEqualTo("webswap");

      assertThat(readOverNbd(dir, 100)).contains("Input/output error");

      Proc.run(QUICK, "dd", "if=" + dir.resolve("after"), "of=" + target, "bs=4096", "seek=200", "count=1",
          "oflag=direct", "conv=notrunc").requireSuccess();
      Proc.run(QUICK, "dd", "if=" + target, "of=" + dir.resolve("after-read"), "bs=4096", "skip=200", "count=1",
          "iflag=direct").requireSuccess();
      assertThat(Files.readAllBytes(dir.resolve("after-read"))).isEqualTo(after);
      // The same client reads a page written since: the error above is the lost page's, not the connection's.
      assertThat(readOverNbd(dir, 200)).contains("read 4096/4096 bytes").doesNotContain("error");

      // Still staged as it was: the same stage is OK, and unstage drops the disk.
      second.node.nodeStageVolume(stage(ID, staging, cap, context(SIZE)));
      second.unpublishAndUnstage(ID, staging, target);
      assertThat(exports(dir)).doesNotContain(ID);
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
    assertThat(Proc.run(QUICK, RemapPaths.command("losetup").toString(), "-a").output()).doesNotContain(dir.toString());
  }

  private static Csi.NodeStageVolumeRequest stage(String id, Path staging, Csi.VolumeCapability cap,
      Map<String, String> context) {
    return Csi.NodeStageVolumeRequest.newBuilder().setVolumeId(id).setStagingTargetPath(staging.toString())
        .setVolumeCapability(cap).putAllVolumeContext(context).build();
  }

  /** qemu-io's account of reading one page of the swap disk straight from the node's NBD server. */
  private static String readOverNbd(Path dir, int page) {
    return Proc.run(QUICK, "qemu-io", "-r", "-f", "raw", "nbd+unix:///" + ID + "?socket="
        + dir.resolve("state/nbd.sock"), "-c", "read " + (long) page * PAGE + " " + PAGE).output();
  }

  /** The export names the node's NBD server lists. */
  private static String exports(Path dir) {
    return Proc.run(QUICK, "nbdinfo", "--list", "--json", "nbd+unix://?socket=" + dir.resolve("state/nbd.sock"))
        .requireSuccess().output();
  }

  private static String metrics(int port) throws IOException, InterruptedException {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  private static double metric(int port, String name, String disk) throws IOException, InterruptedException {
    String text = metrics(port);
    Matcher m = Pattern.compile("(?m)^" + name + "\\{disk=\"" + Pattern.quote(disk) + "\",?\\} (\\S+)$").matcher(text);
    assertThat(m.find()).as("%s of %s in:%n%s", name, disk, text).isTrue();
    return Double.parseDouble(m.group(1));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static StatusRuntimeException catchStatus(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call succeeded");
  }

  private static Status.Code code(Runnable call) {
    return catchStatus(call).getStatus().getCode();
  }

  private static void assertStatus(Runnable call, Status.Code code, String message) {
    StatusRuntimeException e = catchStatus(call);
    assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
    assertThat(e.getStatus().getDescription()).contains(message);
  }
}
