package dev.remap.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real server process (nbdkit, qemu-nbd, remap serve, ...) running while a test talks to it.
 * Its output goes to a log file so that a failure can show it; closing it stops the process.
 */
public final class BackgroundProcess implements AutoCloseable {

  private final List<String> command;
  private final Process process;
  private final Path log;

  private BackgroundProcess(List<String> command, Process process, Path log) {
    this.command = command;
    this.process = process;
    this.log = log;
  }

  public static BackgroundProcess start(String... command) {
    return start(java.util.Map.of(), command);
  }

  /** Starts command with env added to this process's environment. */
  public static BackgroundProcess start(java.util.Map<String, String> env, String... command) {
    try {
      Path log = Files.createTempFile("remap-bg", ".log");
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().putAll(env);
      Process process = builder
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
      return new BackgroundProcess(List.of(command), process, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
    }
  }

  /** Waits until ready says yes; fails with the process's output if it exits or time runs out. */
  public BackgroundProcess awaitReady(Duration timeout, BooleanSupplier ready) {
    Instant deadline = Instant.now().plus(timeout);
    while (!ready.getAsBoolean()) {
      if (!process.isAlive()) {
        throw new AssertionError(String.join(" ", command) + " exited " + process.exitValue() + ":\n" + output());
      }
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError(String.join(" ", command) + " not ready within " + timeout + ":\n" + output());
      }
      sleep(50);
    }
    return this;
  }

  /** Waits for a Unix socket the process creates. */
  public BackgroundProcess awaitSocket(Path socket, Duration timeout) {
    return awaitReady(timeout, () -> Files.exists(socket));
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  /** Sends SIGKILL, as a crash would. */
  public void kill() {
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(30));
  }

  /** Sends SIGTERM and waits; SIGKILL if the process ignores it. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      if (!waitFor(Duration.ofSeconds(30))) {
        kill();
      }
    }
    try {
      Files.deleteIfExists(log);
    } catch (IOException ignored) {
      // A leftover log in the temp folder is harmless.
    }
  }

  private boolean waitFor(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
