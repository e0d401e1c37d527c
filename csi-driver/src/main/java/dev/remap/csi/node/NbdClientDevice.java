package dev.remap.csi.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's NBD client under a staged volume ({@link AttachMethod#NBD_CLIENT}): a
 * {@code /dev/nbdN} device that {@link LoopAttacher} puts its loop device on.
 *
 * <p>The kernel device does not talk to the engine directly, for the same reason nbdfuse does
 * not: its socket must outlive a plugin restart. A kernel NBD device whose server goes away fails
 * its requests (or, with a request timeout, gives up on the connection), while a
 * {@link ReconnectingProxy} in between (its own process, on a Unix socket of its own in
 * {@code dir}) keeps the kernel's connection open and resends what was in flight once the engine
 * is back, so the device only stalls. No request timeout is set on the device, so the kernel
 * waits for the proxy as long as the proxy retries (it warns about stuck requests meanwhile).
 *
 * <p>The device is connected through netlink (nbd-client's default), so nbd-client itself exits
 * once the device is configured; the proxy is the one process a device depends on (nbdkit, for
 * devices attached by older plugins: {@link #disconnect} stops either). The proxy ends by itself
 * when the kernel closes its connection (nbd-client -d).
 */
final class NbdClientDevice {

  private static final String PID = "proxy.pid";
  /** The pid file of the nbdkit older plugins ran in the proxy's place. */
  private static final String NBDKIT_PID = "nbdkit.pid";

  /** A connected NBD device and the proxy it is connected to. */
  record Connected(String device, long proxyPid) {}

  private NbdClientDevice() {}

  static Connected connect(String export, Path engineSocket, Path dir, boolean readOnly, HelperLauncher helpers)
      throws IOException {
    Files.createDirectories(dir);
    ProxyProcess.stop(dir.resolve(NBDKIT_PID)); // one left by an older plugin that died before recording it
    Path socket = ProxyProcess.socketFor(dir);
    long pid = ProxyProcess.start(export, engineSocket, socket, dir.resolve(PID), dir.resolve("proxy.log"), readOnly,
        helpers);
    try {
      if (!Files.isDirectory(Path.of("/sys/block/nbd0"))) {
        Commands.run("modprobe", "nbd");
      }
      IOException last = null;
      for (String device : freeDevices()) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          // A failed try's client got through the handshake, and its close ended the proxy.
          pid = ProxyProcess.start(export, engineSocket, socket, dir.resolve(PID), dir.resolve("proxy.log"), readOnly,
              helpers);
        }
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
      ProxyProcess.stop(dir.resolve(PID));
      throw e;
    }
  }

  /** Disconnects the device (when it is still connected) and stops its proxy (or older nbdkit). */
  static void disconnect(String device, Path dir, long helperPid) throws IOException {
    if (connected(device)) {
      Commands.run("nbd-client", "-d", device);
    }
    ProxyProcess.stop(helperPid);
    Files.deleteIfExists(dir.resolve(PID));
    Files.deleteIfExists(dir.resolve(NBDKIT_PID));
    Files.deleteIfExists(ProxyProcess.socketFor(dir));
  }

  /** Is the device connected, and its proxy (or older nbdkit) alive to serve it? */
  static boolean alive(String device, long helperPid) throws IOException {
    return ProcessHandle.of(helperPid).map(ProcessHandle::isAlive).orElse(false) && connected(device);
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
}
