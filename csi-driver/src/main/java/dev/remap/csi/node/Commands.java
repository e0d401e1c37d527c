package dev.remap.csi.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the host tools the node plugin drives (losetup, mount, mkfs, ...), each with a time limit,
 * and turns a failure into an IOException that says which command failed and what it printed.
 */
final class Commands {

  /** What a command printed and how it ended. */
  record Result(int exitCode, String output) {}

  private Commands() {}

  static String run(String... command) throws IOException {
    Result result = tryRun(120, command);
    if (result.exitCode() != 0) {
      throw new IOException("'" + String.join(" ", command) + "' failed (exit " + result.exitCode() + "): "
          + result.output().strip());
    }
    return result.output();
  }

  static Result tryRun(int timeoutSeconds, String... command) throws IOException {
    Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    process.getOutputStream().close();
    try {
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("'" + String.join(" ", command) + "' did not finish within " + timeoutSeconds + " s");
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + command[0], e);
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(process.exitValue(), output);
  }
}
