package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.csi.spec.Csi;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import dev.remap.testkit.Await;
import dev.remap.testkit.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

/**
 * The node path on a host with the nbd kernel module, run inside the test guest by {@link
 * CsiKernelNbdClientTest} (the guest's kernel has the module; this machine's does not). Started
 * as a program, not a test: {@code java -cp TEST_CLASSPATH dev.remap.e2e.KernelNbdScenario DIR}.
 * Every check is an assertion; the first that fails ends the program with status 1.
 *
 * <p>A block and an ext4 volume are staged and published by `./remap csi --mode all`, which
 * chooses the kernel NBD client: the loop device the pod gets sits on a /dev/nbdN. Data written
 * through both survives online growth, a SIGKILL of the plugin with a write waiting on the
 * device, unpublish and unstage (which disconnect the NBD devices) and a fresh process. That the
 * write really waited is checked, not assumed: it is seen in flight on the NBD device while no
 * plugin runs, and dd has not exited when the next plugin is started.
 */
final class KernelNbdScenario {

  private static final Duration QUICK = Duration.ofMinutes(3);
  private static final long MIB = 1 << 20;

  private KernelNbdScenario() {}

  public static void main(String[] args) throws Exception {
    try {
      run(Path.of(args[0]));
      System.out.println("KERNEL-NBD-SCENARIO PASSED");
      System.exit(0);
    } catch (Throwable e) {
      e.printStackTrace(System.out);
      System.out.println("KERNEL-NBD-SCENARIO FAILED: " + e);
      System.exit(1);
    }
  }

  private static void run(Path dir) throws Exception {
    Files.createDirectories(dir.resolve("store"));
    byte[][] patterns = new byte[3][(int) MIB];
    for (int i = 0; i < patterns.length; i++) {
      new Random(7 + i).nextBytes(patterns[i]);
      Files.write(dir.resolve("p" + i), patterns[i]);
    }
    Csi.VolumeCapability blockCap = CsiClient.block(Mode.SINGLE_NODE_WRITER);
    Csi.VolumeCapability fsCap = CsiClient.mount("ext4", Mode.SINGLE_NODE_WRITER);
    Path blockStaging = dir.resolve("staging/blk");
    Path fsStaging = dir.resolve("staging/fs");
    Path blockTarget = dir.resolve("pods/blk/dev");
    Path fsTarget = dir.resolve("pods/fs/mnt");

    CsiClient first = CsiClient.start(dir);
    step("driver started");
    first.create("blk", 64 * MIB, blockCap);
    first.create("fs", 64 * MIB, fsCap);
    first.stageAndPublish("blk", blockStaging, blockTarget, blockCap);
    first.stageAndPublish("fs", fsStaging, fsTarget, fsCap);
    step("staged and published");
    assertThat(Files.readString(dir.resolve("state/staged/blk.properties"))).contains("attachMethod=NBD_CLIENT");
    String backing = sh("losetup --list --noheadings --output BACK-FILE");
    assertThat(backing).as("the loop devices sit on kernel NBD devices").contains("/dev/nbd");
    assertThat(connectedNbdDevices()).isEqualTo(2);

    writeAt(dir, blockTarget, 0, 4);
    Files.write(fsTarget.resolve("disk.img"), patterns[1]);
    sh("sync " + fsTarget.resolve("disk.img"));

    // Online growth of the block volume through the kernel client path.
    first.controller.controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder().setVolumeId("blk")
        .setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(128 * MIB)).build());
    first.node.nodeExpandVolume(Csi.NodeExpandVolumeRequest.newBuilder().setVolumeId("blk")
        .setVolumePath(blockTarget.toString()).build());
    assertThat(sh("blockdev --getsize64 " + blockTarget).strip()).isEqualTo(Long.toString(128 * MIB));
    writeAt(dir, blockTarget, 2, 100);
    step("grown online");

    // The plugin dies; a write issued meanwhile waits on the device and lands once it is back.
    Path nbd = nbdUnder(blockTarget);
    first.driver.kill();
    first.close();
    Process waiting = new ProcessBuilder("dd", "if=" + dir.resolve("p1"), "of=" + blockTarget, "bs=1M", "seek=8",
        "count=1", "oflag=direct", "conv=fsync,notrunc").redirectErrorStream(true).start();
    // The proof that it waited, not failed or finished: the NBD device holds it in flight while no
    // plugin runs, and dd has not exited when the next plugin is started.
    awaitWriteInFlight(waiting, nbd);
    // Held past a few of the proxy's once-a-second reconnect attempts, each of which finds no server.
    Thread.sleep(3000);
    assertThat(BlockDevices.inFlightWrites(nbd)).as("%s holds the write after 3 s without a plugin", nbd)
        .isPositive();
    assertThat(waiting.isAlive()).as("dd still waits when the next plugin starts").isTrue();
    step("write held on the device without a plugin");
    CsiClient second = CsiClient.start(dir);
    step("driver restarted");
    assertThat(waiting.waitFor(3, java.util.concurrent.TimeUnit.MINUTES)).as("the write completes").isTrue();
    assertThat(waiting.exitValue()).as(new String(waiting.getInputStream().readAllBytes())).isZero();
    assertThat(BlockDevices.inFlightWrites(nbd)).isZero();
    assertThat(readAt(dir, blockTarget, 4)).isEqualTo(patterns[0]);
    assertThat(readAt(dir, blockTarget, 8)).isEqualTo(patterns[1]);
    assertThat(Files.readAllBytes(fsTarget.resolve("disk.img"))).isEqualTo(patterns[1]);
    second.unpublishAndUnstage("blk", blockStaging, blockTarget);
    second.unpublishAndUnstage("fs", fsStaging, fsTarget);
    assertThat(connectedNbdDevices()).as("unstage disconnects the NBD devices").isZero();
    assertThat(sh("losetup --list --noheadings")).doesNotContain("/dev/nbd");
    second.close();
    step("unstaged");

    try (CsiClient fresh = CsiClient.start(dir)) {
      fresh.stageAndPublish("blk", blockStaging, blockTarget, blockCap);
      fresh.stageAndPublish("fs", fsStaging, fsTarget, fsCap);
      assertThat(readAt(dir, blockTarget, 4)).isEqualTo(patterns[0]);
      assertThat(readAt(dir, blockTarget, 8)).isEqualTo(patterns[1]);
      assertThat(readAt(dir, blockTarget, 100)).isEqualTo(patterns[2]);
      assertThat(Files.readAllBytes(fsTarget.resolve("disk.img"))).isEqualTo(patterns[1]);
      fresh.unpublishAndUnstage("blk", blockStaging, blockTarget);
      fresh.unpublishAndUnstage("fs", fsStaging, fsTarget);
    }
    assertThat(connectedNbdDevices()).isZero();
    step("read back by a fresh process");
  }

  private static void step(String what) {
    System.out.println("KERNEL-NBD-SCENARIO step: " + what);
  }

  /** NBD devices with a size: connected ones. */
  private static long connectedNbdDevices() throws Exception {
    long n = 0;
    try (var devices = Files.list(Path.of("/sys/block"))) {
      for (Path d : devices.filter(p -> p.getFileName().toString().startsWith("nbd")).toList()) {
        if (Long.parseLong(Files.readString(d.resolve("size")).strip()) > 0) {
          n++;
        }
      }
    }
    return n;
  }

  /** The sysfs folder of the NBD device that the loop device published at target sits on. */
  private static Path nbdUnder(Path target) {
    Path backing = BlockDevices.loopBacking(BlockDevices.sysfs(target));
    assertThat(backing.toString()).as("the block volume's loop device is on an NBD device").startsWith("/dev/nbd");
    return Path.of("/sys/block").resolve(backing.getFileName());
  }

  /** Waits until the device holds a write of dd's; fails at once if dd ends first. */
  private static void awaitWriteInFlight(Process dd, Path nbd) {
    Await.until("a write of dd's held on " + nbd, QUICK, () -> {
      if (!dd.isAlive()) {
        throw new AssertionError("dd ended (status " + dd.exitValue() + ") while no plugin was running: "
            + new String(dd.getInputStream().readAllBytes()));
      }
      return BlockDevices.inFlightWrites(nbd) > 0;
    });
  }

  private static String sh(String command) {
    return Proc.run(QUICK, "sh", "-c", command).requireSuccess().output();
  }

  private static void writeAt(Path dir, Path device, int pattern, int mib) {
    sh("dd if=" + dir.resolve("p" + pattern) + " of=" + device + " bs=1M seek=" + mib
        + " count=1 oflag=direct conv=fsync,notrunc");
  }

  private static byte[] readAt(Path dir, Path device, int mib) throws Exception {
    Path out = dir.resolve("read-" + mib);
    sh("dd if=" + device + " of=" + out + " bs=1M skip=" + mib + " count=1 iflag=direct");
    return Files.readAllBytes(out);
  }
}
