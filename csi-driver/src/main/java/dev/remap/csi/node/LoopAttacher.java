package dev.remap.csi.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns an NBD export into a kernel block device without the nbd kernel module (the
 * {@link AttachMethod#NBDFUSE_LOOP} fallback): nbdfuse exposes the export as one file in a FUSE
 * mount, and a loop device is put on that file. The loop device uses direct I/O so that the page
 * cache does not hold every block twice (once for the loop device, once for the FUSE file).
 *
 * <p>nbdfuse cannot reconnect, so it does not talk to the engine directly: it starts nbdkit
 * (socket activation) with the nbd plugin behind the retry filter, and that nbdkit connects to
 * the engine's socket. When the engine goes away (the node plugin restarts) a request fails
 * inside nbdkit, which reconnects every second and sends the request again: the device stalls
 * until the engine is back and never returns an I/O error for the restart. Both processes are
 * started here but outlive this JVM, which is what lets the kernel devices survive a plugin
 * restart. The retry filter handles one request at a time per device; that costs throughput on
 * this fallback path only (docs/CSI.md has the figures).
 *
 * <p>Growth while attached: an NBD connection's size is fixed when it is negotiated, and
 * nbdfuse's file keeps the size it was mounted with. So the node's NBD server gives each volume
 * export room to grow (it advertises the largest size the volume may reach; past the volume's
 * end reads are zeros and writes fail), and the loop device is limited to the volume's real size
 * ({@code --sizelimit}). Growing the device is then raising that limit on the bound loop device
 * ({@link #resize}), which the kernel applies at once, with the device in use.
 *
 * <p>nbdfuse runs in the foreground; its pid file appears when the FUSE mount serves requests.
 * Stateless: the caller persists the {@link Attachment}.
 */
final class LoopAttacher {

  private static final String FILE = "disk";
  private static final Duration READY = Duration.ofSeconds(30);
  /** How long a device waits for the engine to come back before its requests fail: 1 s apart. */
  static final int RECONNECT_ATTEMPTS = 180;

  /** An attached volume: the loop device, the FUSE folder it is backed by, nbdfuse's pid. */
  record Attachment(String device, Path fuseDir, long nbdfusePid) {}

  private LoopAttacher() {}

  /**
   * Attaches the export as a loop device of {@code size} bytes (the volume's size; the export
   * itself may advertise more, see above).
   */
  static Attachment attach(String export, Path nbdSocket, Path fuseDir, boolean readOnly, long size)
      throws IOException {
    Files.createDirectories(fuseDir);
    if (Mounts.isMountPoint(fuseDir)) {
      detachFuse(fuseDir, Optional.empty()); // left by a plugin that died before recording it
    }
    Path pidFile = fuseDir.resolveSibling(fuseDir.getFileName() + ".pid");
    Path log = fuseDir.resolveSibling(fuseDir.getFileName() + ".log");
    Files.deleteIfExists(pidFile);
    List<String> command = new ArrayList<>(List.of("nbdfuse", "-P", pidFile.toString()));
    if (readOnly) {
      command.add("-r");
    }
    command.add(fuseDir.resolve(FILE).toString());
    command.addAll(reconnectingProxy(export, nbdSocket, readOnly));
    Process nbdfuse = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    Instant deadline = Instant.now().plus(READY);
    while (!Files.exists(pidFile) || Files.size(pidFile) == 0) {
      if (!nbdfuse.isAlive()) {
        throw new IOException("nbdfuse for " + export + " ended with status " + nbdfuse.exitValue() + ": "
            + Files.readString(log).strip());
      }
      if (Instant.now().isAfter(deadline)) {
        nbdfuse.destroy();
        throw new IOException("nbdfuse for " + export + " was not ready within " + READY.toSeconds() + " s");
      }
      sleep(50);
    }
    try {
      List<String> losetup = new ArrayList<>(List.of("losetup", "--find", "--show", "--direct-io=on",
          "--sizelimit", Long.toString(size)));
      if (readOnly) {
        losetup.add("--read-only");
      }
      losetup.add(fuseDir.resolve(FILE).toString());
      String device = Commands.run(losetup.toArray(String[]::new)).strip();
      return new Attachment(device, fuseDir, nbdfuse.pid());
    } catch (IOException e) {
      detachFuse(fuseDir, Optional.of(nbdfuse.pid()));
      throw e;
    }
  }

  /** The nbdfuse server command: nbdkit forwarding to the engine and reconnecting to it. */
  static List<String> reconnectingProxy(String export, Path nbdSocket, boolean readOnly) {
    List<String> command = new ArrayList<>(List.of("[", "nbdkit", "--exit-with-parent"));
    if (readOnly) {
      command.add("--readonly");
    }
    command.addAll(List.of("--filter=retry", "nbd", "socket=" + nbdSocket, "export=" + export,
        "retries=" + RECONNECT_ATTEMPTS, "retry-delay=1", "retry-exponential=no", "]"));
    return command;
  }

  /** Undoes {@link #attach}; every step is skipped when it is undone already. */
  static void detach(Attachment attachment) throws IOException {
    if (backs(attachment.device(), attachment.fuseDir())) {
      Commands.run("losetup", "--detach", attachment.device());
    }
    detachFuse(attachment.fuseDir(), Optional.of(attachment.nbdfusePid()));
  }

  /** The size of the attached device in bytes. */
  static long size(String device) throws IOException {
    return Long.parseLong(Commands.run("blockdev", "--getsize64", device).strip());
  }

  /**
   * Sets the size of a bound loop device, in use or not, by changing its size limit
   * (LOOP_GET_STATUS64, then LOOP_SET_STATUS64 with everything else as it was). losetup can set
   * a limit only when it binds a device, and Java cannot issue an ioctl, so Perl (part of every
   * Debian system: perl-base is essential) does it. struct loop_info64: lo_sizelimit is the
   * fifth 64-bit field (offset 32) of its 232 bytes; the request numbers are from linux/loop.h.
   */
  static void resize(String device, long size) throws IOException {
    Commands.run("perl", "-e", RESIZE_SCRIPT, device, Long.toString(size));
    long now = size(device);
    if (now != size) {
      throw new IOException("loop device " + device + " is " + now + " bytes after setting its size limit to " + size
          + " (its backing file is smaller: it was attached before devices were given room to grow; stage it again)");
    }
  }

  private static final String RESIZE_SCRIPT = String.join("\n",
      "my ($device, $size) = @ARGV;",
      "open(my $fh, '<', $device) or die \"cannot open $device: $!\\n\";",
      "my $info = \"\\0\" x 232;",
      "ioctl($fh, 0x4C05, $info) or die \"LOOP_GET_STATUS64 on $device failed: $!\\n\";",
      "substr($info, 32, 8) = pack('Q<', $size);",
      "ioctl($fh, 0x4C04, $info) or die \"LOOP_SET_STATUS64 on $device failed: $!\\n\";");

  /** Is the loop device still backed by the file in fuseDir (and not reused for another)? */
  static boolean backs(String device, Path fuseDir) throws IOException {
    Commands.Result result = Commands.tryRun(30, "losetup", "--noheadings", "--output", "BACK-FILE", device);
    return result.exitCode() == 0 && result.output().strip().startsWith(fuseDir.resolve(FILE).toString());
  }

  /** Is the FUSE mount still served (nbdfuse alive and answering)? */
  static boolean alive(Attachment attachment) throws IOException {
    return ProcessHandle.of(attachment.nbdfusePid()).map(ProcessHandle::isAlive).orElse(false)
        && Mounts.isMountPoint(attachment.fuseDir());
  }

  private static void detachFuse(Path fuseDir, Optional<Long> pid) throws IOException {
    // The loop driver lets go of its file shortly after the detach returns: retry while busy.
    for (int attempt = 0; Mounts.isMountPoint(fuseDir); attempt++) {
      Commands.Result result = Commands.tryRun(30, "fusermount3", "-u", fuseDir.toString());
      if (result.exitCode() != 0) {
        if (attempt >= 50) {
          throw new IOException("cannot unmount " + fuseDir + ": " + result.output().strip());
        }
        sleep(100);
      }
    }
    Optional<ProcessHandle> process = pid.flatMap(ProcessHandle::of);
    if (process.isPresent()) {
      try {
        process.get().onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        process.get().destroy();
      }
    }
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
