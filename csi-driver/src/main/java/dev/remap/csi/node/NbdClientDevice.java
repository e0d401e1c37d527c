package dev.remap.csi.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The kernel's NBD client under a staged volume ({@link AttachMethod#NBD_CLIENT}): a
 * {@code /dev/nbdN} device that {@link LoopAttacher} puts its loop device on.
 *
 * <p>The kernel device does not talk to the engine directly, for the same reason nbdfuse does
 * not: its socket must outlive a plugin restart. A kernel NBD device whose server goes away fails
 * its requests (or, with a request timeout, gives up on the connection), while a reconnecting
 * nbdkit in between (nbd plugin behind the retry filter, as a daemon on a Unix socket of its own
 * in {@code dir}) keeps the kernel's connection open and resends a request once the engine is
 * back, so the device only stalls. No request timeout is set on the device, so the kernel waits
 * for nbdkit as long as nbdkit retries (it warns about stuck requests meanwhile).
 *
 * <p>The device is connected through netlink (nbd-client's default), so nbd-client itself exits
 * once the device is configured; nbdkit is the one process a device depends on.
 */
final class NbdClientDevice {

  private static final String SOCKET = "proxy.sock";
  private static final String PID = "nbdkit.pid";
  private static final Duration PID_WAIT = Duration.ofSeconds(30);

  /** A connected NBD device and the nbdkit it is connected to. */
  record Connected(String device, long nbdkitPid) {}

  private NbdClientDevice() {}

  static Connected connect(String export, Path engineSocket, Path dir, boolean readOnly, HelperLauncher helpers)
      throws IOException {
    Files.createDirectories(dir);
    stopProxy(dir); // one left by a plugin that died before recording it
    Path socket = dir.resolve(SOCKET);
    Files.deleteIfExists(socket);
    List<String> nbdkit = new ArrayList<>(List.of("nbdkit", "--unix", socket.toString(), "--pidfile",
        dir.resolve(PID).toString()));
    if (readOnly) {
      nbdkit.add("--readonly");
    }
    // Without --foreground nbdkit returns once its socket listens; its forked child writes the
    // pid file after that, so the file may not be there yet (seen under emulation).
    nbdkit.addAll(LoopAttacher.retryingEngine(export, engineSocket));
    Commands.Result started = helpers.run(120, nbdkit);
    if (started.exitCode() != 0) {
      throw new IOException("'" + String.join(" ", nbdkit) + "' (run by " + helpers.describe() + ") failed (exit "
          + started.exitCode() + "): " + started.output().strip());
    }
    long pid = awaitPid(dir.resolve(PID));
    try {
      if (!Files.isDirectory(Path.of("/sys/block/nbd0"))) {
        Commands.run("modprobe", "nbd");
      }
      IOException last = null;
      for (String device : freeDevices()) {
        // 512-byte sectors, as the loop device on top has: with a larger sector below, the loop
        // driver cannot use direct I/O, and its buffered path left ext4 unmountable (seen on 6.1).
        List<String> client = new ArrayList<>(List.of("nbd-client", "-N", export, "-u", socket.toString(),
            device, "-b", "512"));
        if (readOnly) {
          client.add("-R");
        }
        Commands.Result result = Commands.tryRun(60, client.toArray(String[]::new));
        if (result.exitCode() == 0 && connected(device)) {
          return new Connected(device, pid);
        }
        // Another process took this device between the look and the connect: try the next.
        last = new IOException("'" + String.join(" ", client) + "' failed (exit " + result.exitCode() + "): "
            + result.output().strip());
      }
      throw last != null ? last : new IOException("no free NBD device (/sys/block/nbd*): all are connected");
    } catch (IOException | RuntimeException e) {
      stopProxy(dir);
      throw e;
    }
  }

  /** The pid nbdkit writes ("PID\n") once it has forked; whole lines only, never a partial write. */
  private static long awaitPid(Path pidFile) throws IOException {
    Instant deadline = Instant.now().plus(PID_WAIT);
    while (true) {
      String text = Files.exists(pidFile) ? Files.readString(pidFile) : "";
      if (text.endsWith("\n") && text.strip().matches("\\d+")) {
        return Long.parseLong(text.strip());
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IOException("nbdkit did not write its pid file " + pidFile + " within " + PID_WAIT.toSeconds() + " s"
            + (text.isEmpty() ? "" : " (it holds '" + text.strip() + "')"));
      }
      LoopAttacher.sleep(20);
    }
  }

  /** Disconnects the device (when it is still connected) and stops its nbdkit. */
  static void disconnect(String device, Path dir, long nbdkitPid) throws IOException {
    if (connected(device)) {
      Commands.run("nbd-client", "-d", device);
    }
    stop(nbdkitPid);
    Files.deleteIfExists(dir.resolve(PID));
    Files.deleteIfExists(dir.resolve(SOCKET));
  }

  /** Is the device connected, and its nbdkit alive to serve it? */
  static boolean alive(String device, long nbdkitPid) throws IOException {
    return ProcessHandle.of(nbdkitPid).map(ProcessHandle::isAlive).orElse(false) && connected(device);
  }

  /** A connected NBD device has a size; a free one has 0 sectors. */
  static boolean connected(String device) throws IOException {
    Path size = Path.of("/sys/block", Path.of(device).getFileName().toString(), "size");
    return Files.exists(size) && Long.parseLong(Files.readString(size).strip()) > 0;
  }

  private static List<String> freeDevices() throws IOException {
    List<String> free = new ArrayList<>();
    try (var devices = Files.list(Path.of("/sys/block"))) {
      for (Path d : devices.filter(p -> p.getFileName().toString().matches("nbd\\d+"))
          .sorted((a, b) -> Integer.compare(number(a), number(b))).toList()) {
        if (!connected("/dev/" + d.getFileName()) && !Files.exists(d.resolve("pid"))) {
          free.add("/dev/" + d.getFileName());
        }
      }
    }
    return free;
  }

  private static int number(Path device) {
    return Integer.parseInt(device.getFileName().toString().substring(3));
  }

  private static void stopProxy(Path dir) throws IOException {
    Path pidFile = dir.resolve(PID);
    if (Files.exists(pidFile)) {
      String text = Files.readString(pidFile).strip();
      if (!text.isEmpty()) {
        stop(Long.parseLong(text));
      }
      Files.deleteIfExists(pidFile);
    }
  }

  private static void stop(long pid) {
    // Only an nbdkit: a pid from a record of a previous boot may belong to anything now.
    Optional<ProcessHandle> process = ProcessHandle.of(pid)
        .filter(p -> p.info().command().map(c -> c.endsWith("/nbdkit") || c.equals("nbdkit")).orElse(false));
    if (process.isEmpty()) {
      return;
    }
    process.get().destroy();
    try {
      process.get().onExit().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.get().destroyForcibly();
    }
  }
}
