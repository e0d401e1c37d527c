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
  private int memoryMb = 256;
  private final List<String> qemuArgs = new ArrayList<>();

  /** Gives the guest a virtio NIC on QEMU's user network (guest 10.0.2.15, host 127.0.0.1 as 10.0.2.2). */
  public TestGuest withNetwork() {
    this.network = true;
    return this;
  }

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
      Path scriptFile = Files.writeString(dir.resolve("script.sh"), script, StandardCharsets.UTF_8);
      Path console = dir.resolve("console.log");
      List<String> command = new ArrayList<>(List.of(
          RemapPaths.script("e2e/tools/guest/run.sh").toString(),
          "--timeout", Long.toString(timeout.toSeconds()),
          "--memory", Integer.toString(memoryMb),
          "--log", console.toString()));
      if (network) {
        command.add("--net");
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
