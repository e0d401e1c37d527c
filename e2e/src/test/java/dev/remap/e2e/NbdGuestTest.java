package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.cli.Main;
import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import dev.remap.testkit.TestGuest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VM's view of Remap volumes served by {@code remap serve}, booted in the QEMU test guest:
 * QEMU's own NBD client (virtio disks over the Unix socket, as KubeVirt's virt-launcher would
 * attach them) and the guest kernel's NBD client over TCP (QEMU user network, host = 10.0.2.2).
 * Between boots the server is killed with SIGKILL and restarted: everything the guest flushed
 * must be there.
 */
class NbdGuestTest {

  private static final Duration BOOT = Duration.ofMinutes(5);

  @TempDir Path tmp;
  private final List<BackgroundProcess> servers = new ArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(BackgroundProcess::close);
  }

  private void cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--store=file://" + tmp.resolve("store"));
    all.add("--journal=" + tmp.resolve("journal"));
    StringWriter err = new StringWriter();
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    assertThat(cli.execute(all.toArray(String[]::new))).as(err.toString()).isZero();
  }

  /** `remap serve` as its own JVM (the same entry point as ./remap), on the socket and loopback TCP. */
  private BackgroundProcess serve() {
    BackgroundProcess server = BackgroundProcess.start(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
        "--store", "file://" + tmp.resolve("store"), "--journal", tmp.resolve("journal").toString(),
        "--socket", socket().toString(), "--listen", "127.0.0.1:0");
    servers.add(server);
    return server.awaitReady(Duration.ofSeconds(60), () -> server.output().contains("serving "));
  }

  private Path socket() {
    return tmp.resolve("nbd.sock");
  }

  private static int port(BackgroundProcess server) {
    Matcher m = Pattern.compile("tcp:127\\.0\\.0\\.1:(\\d+)").matcher(server.output());
    assertThat(m.find()).as(server.output()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  private String[] virtioDisks() {
    return new String[] {
        "-drive", "file=nbd+unix:///raw1?socket=" + socket() + ",format=raw,if=virtio",
        "-drive", "file=nbd+unix:///fs1?socket=" + socket() + ",format=raw,if=virtio"};
  }

  private static String value(String console, String key) {
    Matcher m = Pattern.compile(key + " ([0-9a-f]{64})").matcher(console);
    assertThat(m.find()).as(key + " in the console:\n" + console).isTrue();
    return m.group(1);
  }

  @Test
  void aGuestWritesThroughQemuAndTheKernelClientAndEverythingFlushedSurvivesSigkill() {
    cli("volume", "create", "raw1", "--size", "64M");
    cli("volume", "create", "fs1", "--size", "256M");

    // Boot 1: QEMU's NBD client; a random pattern on raw1, an ext4 filesystem with files on fs1.
    BackgroundProcess first = serve();
    TestGuest.Run boot1 = new TestGuest().withTimeout(BOOT).withQemuArgs(virtioDisks()).run("""
        set -e
        dd if=/dev/urandom of=/tmp/pattern bs=1M count=8 2>/dev/null
        echo "PATTERN $(sha256sum /tmp/pattern | cut -d' ' -f1)"
        dd if=/tmp/pattern of=/dev/vda bs=1M seek=16 2>/dev/null
        mkfs.ext4 -q -F -b 4096 /dev/vdb   # 4 KiB blocks: the kernel client below uses 4 KiB sectors
        mkdir -p /mnt && mount /dev/vdb /mnt
        dd if=/dev/urandom of=/mnt/random.bin bs=1M count=4 2>/dev/null
        echo "hello from the guest" > /mnt/hello.txt
        mkdir -p /mnt/dir && cp /tmp/pattern /mnt/dir/pattern.copy
        (cd /mnt && sha256sum random.bin hello.txt dir/pattern.copy > /mnt/SUMS)
        umount /mnt
        sync
        echo boot1-done
        """);
    assertThat(boot1.exitCode()).as(boot1.console()).isZero();
    String pattern = value(boot1.console(), "PATTERN");

    first.kill(); // SIGKILL: no shutdown hook, no journal upload; the journal replays at the next start
    BackgroundProcess second = serve();

    // Boot 2: everything the guest flushed is there, the filesystem is clean.
    TestGuest.Run boot2 = new TestGuest().withTimeout(BOOT).withQemuArgs(virtioDisks()).run("""
        set -e
        echo "READBACK $(dd if=/dev/vda bs=1M skip=16 count=8 2>/dev/null | sha256sum | cut -d' ' -f1)"
        e2fsck -f -n /dev/vdb
        mkdir -p /mnt && mount -o ro /dev/vdb /mnt
        (cd /mnt && sha256sum -c SUMS)
        grep -q "hello from the guest" /mnt/hello.txt
        umount /mnt
        echo boot2-done
        """);
    assertThat(boot2.exitCode()).as(boot2.console()).isZero();
    assertThat(value(boot2.console(), "READBACK")).isEqualTo(pattern);

    // Boot 3: the guest kernel's NBD client over TCP, through QEMU's user network.
    int port = port(second);
    TestGuest.Run boot3 = new TestGuest().withTimeout(BOOT).withNetwork().run("""
        set -e
        modprobe nbd 2>/dev/null || true
        nbd-client -N fs1 10.0.2.2 %d /dev/nbd0 -b 4096
        mkdir -p /mnt && mount /dev/nbd0 /mnt
        (cd /mnt && sha256sum -c SUMS)
        echo "written by the kernel nbd client" > /mnt/kernel.txt
        sync
        umount /mnt
        nbd-client -d /dev/nbd0
        echo boot3-done
        """.formatted(port));
    assertThat(boot3.exitCode()).as(boot3.console()).isZero();

    // And the host, through a fresh server after another SIGKILL, sees the kernel client's file.
    second.kill();
    serve();
    Path image = tmp.resolve("fs1.img");
    Proc.run(Duration.ofMinutes(2), RemapPaths.command("nbdcopy").toString(),
        "nbd+unix:///fs1?socket=" + socket(), image.toString()).requireSuccess();
    String cat = Proc.run(Duration.ofMinutes(1), RemapPaths.command("debugfs").toString(), "-R", "cat /kernel.txt",
        image.toString()).requireSuccess().output();
    assertThat(cat).contains("written by the kernel nbd client");
  }
}
