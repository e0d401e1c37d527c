package dev.remap.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The powercut FUSE filesystem (e2e/tools/powercut, built into the cache by install.sh) mounted
 * over a backing folder: a disk with a volatile write cache. File data not yet fsynced and
 * namespace changes whose directory was not fsynced live in its memory only; {@link #cut} drops
 * them at once, as a power cut would, and every later request through the mount fails with EIO.
 * Closing unmounts it; mounting the same backing folder again shows what a machine would find
 * after the outage. The tool's header comment states the model exactly.
 *
 * <p>Processes using files under the mount must be gone (or have closed them) before
 * {@link #close}, or the mount is detached lazily.
 */
public final class PowerCutMount implements AutoCloseable {

  /** Which namespace changes an fsync makes durable. */
  public enum Model {
    /**
     * Only its own directory's (POSIX, fsync(2)): a new directory's entry in its parent needs an
     * fsync of the parent, a new file's name an fsync of its directory.
     */
    STRICT,
    /** Every earlier one, as one fsync commits the whole metadata journal of ext4 or XFS. */
    ORDERED
  }

  private static final Duration READY = Duration.ofSeconds(20);

  private final Path mountPoint;
  private final Process process;
  private final Writer control;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final Path log;

  private PowerCutMount(Path mountPoint, Process process, Path log) {
    this.mountPoint = mountPoint;
    this.process = process;
    this.log = log;
    this.control = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(this::readLines, "powercut-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Mounts a new instance over backing at mountPoint (both folders must exist). */
  public static PowerCutMount mount(Path backing, Path mountPoint, Model model) {
    List<String> command = new ArrayList<>(List.of(RemapPaths.cachedTool("powercut").toString(), "-stdin"));
    if (model == Model.ORDERED) {
      command.add("-ordered");
    }
    command.add(backing.toString());
    command.add(mountPoint.toString());
    try {
      Path log = Files.createTempFile("remap-powercut", ".log");
      Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
      PowerCutMount mount = new PowerCutMount(mountPoint, process, log);
      mount.await("ready", READY);
      return mount;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
    }
  }

  public Path path() {
    return mountPoint;
  }

  /** Cuts the power: returns once everything unsynced is gone and the mount answers only EIO. */
  public void cut() {
    send("cut");
    await("cut", READY);
  }

  /** What the tool logged (what each cut dropped, errors). */
  public String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Unmounts and waits for the tool to exit; a mount still busy is detached. */
  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        send("exit");
      }
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
      if (mounted()) {
        Proc.run(Duration.ofSeconds(30), "umount", "-l", mountPoint.toString()).requireSuccess();
      }
      Files.deleteIfExists(log);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while unmounting " + mountPoint, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean mounted() throws IOException {
    // The fourth and fifth fields of mountinfo are the mount's root and its mount point.
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] fields = line.split(" ");
      if (fields.length > 4 && fields[4].equals(mountPoint.toAbsolutePath().toString())) {
        return true;
      }
    }
    return false;
  }

  private void send(String command) {
    try {
      control.write(command + "\n");
      control.flush();
    } catch (IOException e) {
      throw new AssertionError("powercut exited before '" + command + "':\n" + log(), e);
    }
  }

  private void await(String expected, Duration timeout) {
    try {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        String line = lines.poll(50, TimeUnit.MILLISECONDS);
        if (expected.equals(line)) {
          return;
        }
        if (line == null && !process.isAlive() && lines.isEmpty()) {
          throw new AssertionError("powercut exited " + process.exitValue() + " before '" + expected + "':\n" + log());
        }
      }
      throw new AssertionError("powercut did not say '" + expected + "' within " + timeout + ":\n" + log());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for powercut", e);
    }
  }

  private void readLines() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        lines.add(line);
      }
    } catch (IOException ignored) {
      // The tool exited: its output simply ends.
    }
  }
}
