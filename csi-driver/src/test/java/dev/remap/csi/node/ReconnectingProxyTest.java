package dev.remap.csi.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.export.VolumeExports;
import dev.remap.engine.nbd.NbdServer;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import dev.remap.testkit.Await;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reconnecting proxy with real parts: the engine's NBD server on a file store, the proxy as
 * its own process (started as the node plugin starts it), and real clients (nbdfuse with a loop
 * device and fio on top, or a hand-driven NBD client).
 */
class ReconnectingProxyTest {

  private static final String VOLUME = "vol";
  private static final long SIZE = 256L << 20;

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;
  private NbdServer server;
  private LoopAttacher.Attachment attachment;

  private Path engineSocket() {
    return tmp.resolve("nbd.sock");
  }

  /** The engine as the node plugin runs it; again after a stop, on the same store and journal. */
  private void startEngine() throws IOException {
    store = FileObjectStore.open(tmp.resolve("store"));
    volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")));
    server = NbdServer.start(new VolumeExports(volumes), NbdServer.Options.unix(engineSocket()));
  }

  private void stopEngine() throws Exception {
    server.close();
    store.close();
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (attachment != null) {
      LoopAttacher.detach(attachment);
    }
    if (server != null) {
      stopEngine();
    }
  }

  private Path attach() throws IOException {
    startEngine();
    volumes.create(VOLUME, SIZE, 4096, 1 << 20);
    attachment = LoopAttacher.attach(AttachMethod.NBDFUSE_LOOP, VOLUME, engineSocket(), tmp.resolve("attach")
        .resolve(VOLUME), false, SIZE, HelperLauncher.LOCAL);
    return LoopAttacher.proxyFile(attachment.dir(), ".proxy.log");
  }

  private static List<String> fio(String name, String device, String... more) {
    List<String> command = new java.util.ArrayList<>(List.of(RemapPaths.command("fio").toString(), "--name=" + name,
        "--filename=" + device, "--ioengine=libaio", "--direct=1", "--output-format=normal"));
    command.addAll(List.of(more));
    return command;
  }

  @Test
  void aDeviceOverTheProxyRidesOutAnEngineRestartAndVerifies() throws Exception {
    Path log = attach();
    // Paced writes, so that the engine's restart falls in the middle of them; the verify pass
    // then reads back everything, written before, during and after the restart.
    Path fioOut = tmp.resolve("fio.out");
    Process fio = new ProcessBuilder(fio("restart", attachment.device(), "--rw=randwrite", "--bs=16k",
        "--size=96M", "--iodepth=16", "--rate_iops=1500", "--verify=crc32c", "--do_verify=1",
        "--verify_fatal=1", "--verify_state_save=0"))
        .redirectErrorStream(true).redirectOutput(fioOut.toFile()).start();
    // fio's writes reach the engine through the proxy before the engine stops.
    Await.until("fio's writes reaching the engine through the proxy", Duration.ofSeconds(30),
        () -> fio.isAlive() && Files.readString(log).contains("requests in flight upstream: new peak"));
    assertThat(fio.isAlive()).as("fio still writing when the engine stops").isTrue();
    stopEngine();
    server = null;
    // The proxy's first reconnect attempt finds no engine, while fio waits.
    Await.until("a reconnect attempt that finds no engine", Duration.ofSeconds(30),
        () -> Files.readString(log).contains("reconnect attempt 1 of"));
    assertThat(fio.isAlive()).as("fio waits for the engine instead of failing").isTrue();
    startEngine();
    assertThat(fio.waitFor(3, TimeUnit.MINUTES)).as("fio ends").isTrue();
    String output = Files.readString(fioOut);
    assertThat(fio.exitValue()).as(output).isZero();
    assertThat(output).doesNotContain("verify: bad").contains("err= 0");
    String proxyLog = Files.readString(log);
    System.out.println("proxy log:\n" + proxyLog);
    assertThat(proxyLog).contains("engine connection lost").contains("reconnected to the engine after");
  }

  @Test
  void theProxyKeepsTheDevicesQueueDepth() throws Exception {
    Path log = attach();
    assertThat(LoopAttacher.fuseQueue(attachment.dir())).as("the FUSE mount's queue (max_background)")
        .isEqualTo(LoopAttacher.FUSE_QUEUE);
    Proc.Result fio = Proc.run(Duration.ofMinutes(2), fio("qd32", attachment.device(), "--rw=randread", "--bs=4k",
        "--iodepth=32", "--time_based", "--runtime=3").toArray(String[]::new)).requireSuccess();
    assertThat(fio.output()).contains("err= 0");
    // What an operator reads in the proxy's log: the most requests it had in flight to the engine.
    int most = 0;
    String proxyLog = Files.readString(log);
    System.out.println("proxy log:\n" + proxyLog);
    Matcher peak = Pattern.compile("requests in flight upstream: new peak (\\d+)").matcher(proxyLog);
    while (peak.find()) {
      most = Math.max(most, Integer.parseInt(peak.group(1)));
    }
    assertThat(most).as("most requests in flight upstream during a QD32 run").isGreaterThan(1);
  }

  @Test
  void aClientThatSendsNonsenseGetsAnErrorWhileOthersAreServed() throws Exception {
    startEngine();
    volumes.create(VOLUME, 16L << 20, 4096, 1 << 20);
    Path socket = tmp.resolve("proxy.sock");
    Process proxy = new ProcessBuilder(ReconnectingProxy.command(socket, engineSocket(), VOLUME, false))
        .redirectErrorStream(true).redirectOutput(tmp.resolve("proxy.log").toFile()).start();
    try {
      Await.until("the proxy listening on " + socket, Duration.ofSeconds(30), () -> Files.exists(socket));
      try (RawNbdClient good = RawNbdClient.connect(socket)) {
        assertThat(good.go(VOLUME)).isEqualTo(16L << 20);
        byte[] data = new byte[4096];
        java.util.Arrays.fill(data, (byte) 0x5a);
        assertThat(good.write(8192, data)).isZero();

        try (RawNbdClient bad = RawNbdClient.connect(socket)) {
          assertThat(bad.option(99, new byte[0])).as("unknown option").isEqualTo(dev.remap.engine.nbd.NbdProtocol.REP_ERR_UNSUP);
          assertThat(bad.option(8, new byte[0])).as("structured replies").isEqualTo(dev.remap.engine.nbd.NbdProtocol.REP_ERR_UNSUP);
          assertThat(bad.goReply("no-such-export")).isEqualTo(dev.remap.engine.nbd.NbdProtocol.REP_ERR_UNKNOWN);
          assertThat(bad.garbage()).as("an option with a bad magic").isEqualTo(dev.remap.engine.nbd.NbdProtocol.REP_ERR_INVALID);
          assertThat(bad.closedByPeer()).isTrue();
        }
        assertThat(good.read(8192, 4096)).isEqualTo(data);
        try (RawNbdClient another = RawNbdClient.connect(socket)) {
          another.go("");
          assertThat(another.read(8192, 4096)).as("a new client after the bad one").isEqualTo(data);
        }
        assertThat(proxy.isAlive()).isTrue();
      }
      assertThat(proxy.waitFor(30, TimeUnit.SECONDS)).as("the proxy ends with its last client").isTrue();
      assertThat(proxy.exitValue()).isZero();
      assertThat(Files.exists(socket)).isFalse();
    } finally {
      proxy.destroyForcibly();
    }
  }
}
