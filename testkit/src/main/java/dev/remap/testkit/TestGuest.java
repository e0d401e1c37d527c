package dev.remap.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Boots the QEMU test guest (e2e/tools/guest) under software emulation, hands it a shell script,
 * and returns what the script exited with and what the serial console showed.
 */
public final class TestGuest {

  /** The script's exit code as the guest reported it, and the whole serial console. */
  public record Run(int exitCode, String console) {}

  private Duration timeout = Duration.ofMinutes(2);
  private boolean network;
  private boolean hostRoot;
  private int memoryMb = 256;
  private final List<String> qemuArgs = new ArrayList<>();

  /** Gives the guest a virtio NIC on QEMU's user network (guest 10.0.2.15, host 127.0.0.1 as 10.0.2.2). */
  public TestGuest withNetwork() {
    this.network = true;
    return this;
  }

  /**
   * Gives the guest the host's programs: the host's / (shared read-only in effect: an overlay
   * whose writes stay in guest memory) at /host, with the guest's /proc, /sys and /dev inside,
   * so that the script can {@code chroot /host} and run the project's own
   * build (Java, the remap jar, nbdkit, ...) on the guest's kernel, which has the modules the
   * host lacks (nbd). The host's /tmp is there too (the project may live in it); what the guest
   * writes anywhere stays in its memory. The guest needs memory for what it runs: give it 2 GiB
   * or more.
   */
  public TestGuest withHostRoot() {
    this.hostRoot = true;
    return this;
  }

  private static final String HOST_ROOT = String.join("\n",
      "mkdir -p /lower /rw /host",
      "mount -t virtiofs hostroot /lower || { echo 'host root: virtiofs mount failed'; exit 90; }",
      "mount -t tmpfs -o size=75% tmpfs /rw && mkdir -p /rw/upper /rw/work",
      "mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /host"
          + " || { echo 'host root: overlay mount failed'; exit 91; }",
      "for d in proc sys dev; do mount --rbind /$d /host/$d; done",
      "");

  public TestGuest withTimeout(Duration timeout) {
    this.timeout = timeout;
    return this;
  }

  public TestGuest withMemoryMb(int memoryMb) {
    this.memoryMb = memoryMb;
    return this;
  }

  /** Extra QEMU arguments, e.g. a -drive for a disk served over NBD. */
  public TestGuest withQemuArgs(String... args) {
    qemuArgs.addAll(List.of(args));
    return this;
  }

  /** Boots the guest, runs script in it with /bin/sh, and waits for it to power off. */
  public Run run(String script) {
    try {
      Path dir = Files.createTempDirectory("remap-guest");
      Path scriptFile = Files.writeString(dir.resolve("script.sh"), (hostRoot ? HOST_ROOT : "") + script,
          StandardCharsets.UTF_8);
      Path console = dir.resolve("console.log");
      List<String> command = new ArrayList<>(List.of(
          RemapPaths.script("e2e/tools/guest/run.sh").toString(),
          "--timeout", Long.toString(timeout.toSeconds()),
          "--memory", Integer.toString(memoryMb),
          "--log", console.toString()));
      if (network) {
        command.add("--net");
      }
      if (hostRoot) {
        command.add("--host-root");
      }
      command.add(scriptFile.toString());
      if (!qemuArgs.isEmpty()) {
        command.add("--");
        command.addAll(qemuArgs);
      }
      // run.sh enforces the guest's timeout itself; the margin covers QEMU's start and stop.
      Proc.Result result = Proc.run(timeout.plusSeconds(60), Map.of(), command);
      String log = Files.exists(console) ? Files.readString(console, StandardCharsets.UTF_8) : result.output();
      return new Run(result.exitCode(), log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
