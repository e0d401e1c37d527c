package dev.remap.csi.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Starting and stopping a device's {@link ReconnectingProxy} from the node plugin. The proxy is
 * started through the {@link HelperLauncher} (so in a pod it is the helper keeper's child and
 * outlives the plugin), and its pid is written next to its socket: a plugin that dies between
 * starting it and recording the attachment leaves a pid file the next attach of the volume uses
 * to end the orphan. Stateless.
 */
final class ProxyProcess {

  private static final Duration READY = Duration.ofSeconds(30);

  private ProxyProcess() {}

  /** The longest path a Unix socket may have (sun_path holds 108 bytes with its terminating zero). */
  static final int MAX_SOCKET_PATH = 107;

  /**
   * The proxy's socket for the device folder dir: a short name beside it, from a hash of the
   * folder's name. A volume's name may have 128 characters, so a socket named after it overran
   * the 107 bytes a Unix socket's path may have (csi-sanity's long volume names did).
   */
  static Path socketFor(Path dir) {
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest(dir.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return dir.resolveSibling("proxy-" + java.util.HexFormat.of().formatHex(digest, 0, 8) + ".sock");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** Starts a proxy listening on socket and waits until it does; returns its pid. */
  static long start(String export, Path engineSocket, Path socket, Path pidFile, Path log, boolean readOnly,
      HelperLauncher helpers) throws IOException {
    // The proxy binds it as NAME~ first (see ReconnectingProxy.run): one byte more.
    if (socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1 > MAX_SOCKET_PATH) {
      throw new IOException("the NBD proxy's socket " + socket + " is longer than the " + MAX_SOCKET_PATH
          + " bytes a Unix socket's path may have: use a shorter state folder (--state-dir)");
    }
    stop(pidFile); // an orphan of a plugin that died before recording it
    Files.deleteIfExists(socket);
    long pid = helpers.start(ReconnectingProxy.command(socket, engineSocket, export, readOnly), log);
    Files.writeString(pidFile, pid + "\n");
    Optional<ProcessHandle> process = ProcessHandle.of(pid);
    Instant deadline = Instant.now().plus(READY);
    // The socket file appears when the proxy listens, which it does only once the engine has
    // opened the export for it: a proxy that cannot reach the export ends, saying why.
    while (!Files.exists(socket)) {
      if (process.map(p -> !p.isAlive()).orElse(true)) {
        Files.deleteIfExists(pidFile);
        throw new IOException("the NBD proxy for " + export + " (started by " + helpers.describe() + ") ended: "
            + (Files.exists(log) ? Files.readString(log).strip() : "no log at " + log));
      }
      if (Instant.now().isAfter(deadline)) {
        stop(pid);
        Files.deleteIfExists(pidFile);
        throw new IOException("the NBD proxy for " + export + " did not listen within " + READY.toSeconds() + " s");
      }
      LoopAttacher.sleep(20);
    }
    return pid;
  }

  /** Stops the proxy whose pid the file holds, if it still runs; removes the file. */
  static void stop(Path pidFile) throws IOException {
    if (Files.exists(pidFile)) {
      String text = Files.readString(pidFile).strip();
      if (text.matches("\\d+")) {
        stop(Long.parseLong(text));
      }
      Files.deleteIfExists(pidFile);
    }
  }

  /** Is the proxy of the pid file running? True when there is no file (attachments older than it). */
  static boolean aliveOrAbsent(Path pidFile) throws IOException {
    if (!Files.exists(pidFile)) {
      return true;
    }
    String text = Files.readString(pidFile).strip();
    return text.matches("\\d+") && ProcessHandle.of(Long.parseLong(text)).filter(ReconnectingProxy::isProxy).isPresent();
  }

  /**
   * Stops a proxy by pid, or an nbdkit (what devices attached by earlier plugins depend on): only
   * those, since a pid from a record of a previous boot may belong to anything now.
   */
  static void stop(long pid) {
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(p -> ReconnectingProxy.isProxy(p)
        || p.info().command().map(c -> c.endsWith("/nbdkit") || c.equals("nbdkit")).orElse(false));
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
