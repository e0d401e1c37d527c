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
 * Turns an NBD export into a kernel block device: a loop device on top of what reaches the
 * export, which is either the kernel's NBD client ({@link AttachMethod#NBD_CLIENT}, a
 * {@code /dev/nbdN}; see {@link NbdClientDevice}) or, without the nbd kernel module, nbdfuse
 * ({@link AttachMethod#NBDFUSE_LOOP}: the export as one file in a FUSE mount). The loop device
 * is what the pod gets in both cases: it gives the device its real size (see growth below). It
 * uses direct I/O so that the page cache does not hold every block twice.
 *
 * <p>nbdfuse cannot reconnect, so it does not talk to the engine directly: it connects to a
 * {@link ReconnectingProxy} (its own process, socket {@code proxy-HASH.sock} beside the mount, see {@link ProxyProcess#socketFor}),
 * and the proxy connects to the engine's socket. When the engine goes away (the node plugin
 * restarts) the proxy reconnects every second and sends again what was in flight: the device
 * stalls until the engine is back and never returns an I/O error for the restart. The proxy
 * forwards requests at the device's queue depth. Both processes are started here but outlive
 * this JVM, which is what lets the kernel devices survive a plugin restart; the proxy ends by
 * itself when nbdfuse closes its connections (the unmount).
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

  /**
   * An attached volume: how, the loop device, the volume's folder (the FUSE mount, or the proxy's
   * socket for the kernel client), the pid of the process the device depends on (nbdfuse, or the
   * kernel client's proxy; nbdkit in records of older plugins) and what the loop device is backed
   * by (the FUSE file or the NBD device). The nbdfuse path's proxy pid is in a file beside the
   * mount ({@link #proxyFile}), which keeps the record's format.
   */
  record Attachment(AttachMethod method, String device, Path dir, long helperPid, String backing) {

    /** An nbdfuse attachment, as records written before the kernel client path have it. */
    Attachment(String device, Path fuseDir, long nbdfusePid) {
      this(AttachMethod.NBDFUSE_LOOP, device, fuseDir, nbdfusePid, fuseDir.resolve(FILE).toString());
    }
  }

  private LoopAttacher() {}

  /**
   * Attaches the export as a loop device of {@code size} bytes (the volume's size; the export
   * itself may advertise more, see above), by the given method, with everything in {@code dir}.
   */
  static Attachment attach(AttachMethod method, String export, Path nbdSocket, Path dir, boolean readOnly,
      long size, HelperLauncher helpers) throws IOException {
    String backing;
    long helper;
    if (method == AttachMethod.NBD_CLIENT) {
      NbdClientDevice.Connected nbd = NbdClientDevice.connect(export, nbdSocket, dir, readOnly, helpers);
      backing = nbd.device();
      helper = nbd.proxyPid();
    } else {
      helper = mountFuse(export, nbdSocket, dir, readOnly, helpers);
      backing = dir.resolve(FILE).toString();
    }
    Attachment unlooped = new Attachment(method, "", dir, helper, backing);
    try {
      List<String> losetup = new ArrayList<>(List.of("losetup", "--find", "--show", "--direct-io=on",
          "--sizelimit", Long.toString(size)));
      if (readOnly) {
        losetup.add("--read-only");
      }
      losetup.add(backing);
      String device = Commands.run(losetup.toArray(String[]::new)).strip();
      return new Attachment(method, device, dir, helper, backing);
    } catch (IOException | RuntimeException e) {
      release(unlooped);
      throw e;
    }
  }

  /** nbdfuse on fuseDir, serving the export through a reconnecting proxy; returns nbdfuse's pid. */
  private static long mountFuse(String export, Path nbdSocket, Path fuseDir, boolean readOnly,
      HelperLauncher helpers) throws IOException {
    Files.createDirectories(fuseDir);
    if (Mounts.isMountPoint(fuseDir)) {
      detachFuse(fuseDir, Optional.empty()); // left by a plugin that died before recording it
    }
    Path proxySocket = ProxyProcess.socketFor(fuseDir);
    ProxyProcess.start(export, nbdSocket, proxySocket, proxyFile(fuseDir, ".proxy.pid"),
        proxyFile(fuseDir, ".proxy.log"), readOnly, helpers);
    try {
      return startNbdfuse(export, proxySocket, fuseDir, readOnly, helpers);
    } catch (IOException | RuntimeException e) {
      ProxyProcess.stop(proxyFile(fuseDir, ".proxy.pid"));
      throw e;
    }
  }

  /** A file of the nbdfuse path's proxy, beside the mount: VOLUME.proxy.pid, VOLUME.proxy.log. */
  static Path proxyFile(Path fuseDir, String suffix) {
    return fuseDir.resolveSibling(fuseDir.getFileName() + suffix);
  }

  private static long startNbdfuse(String export, Path proxySocket, Path fuseDir, boolean readOnly,
      HelperLauncher helpers) throws IOException {
    Path pidFile = fuseDir.resolveSibling(fuseDir.getFileName() + ".pid");
    Path log = fuseDir.resolveSibling(fuseDir.getFileName() + ".log");
    Files.deleteIfExists(pidFile);
    List<String> command = new ArrayList<>(List.of("nbdfuse", "-P", pidFile.toString()));
    if (readOnly) {
      command.add("-r");
    }
    command.add(fuseDir.resolve(FILE).toString());
    command.addAll(List.of("--unix", proxySocket.toString()));
    long pid = helpers.start(command, log);
    Optional<ProcessHandle> nbdfuse = ProcessHandle.of(pid);
    Instant deadline = Instant.now().plus(READY);
    while (!Files.exists(pidFile) || Files.size(pidFile) == 0) {
      if (nbdfuse.map(p -> !p.isAlive()).orElse(true)) {
        throw new IOException("nbdfuse for " + export + " (started by " + helpers.describe() + ") ended: "
            + (Files.exists(log) ? Files.readString(log).strip() : "no log at " + log));
      }
      if (Instant.now().isAfter(deadline)) {
        nbdfuse.ifPresent(ProcessHandle::destroy);
        throw new IOException("nbdfuse for " + export + " was not ready within " + READY.toSeconds() + " s");
      }
      sleep(50);
    }
    raiseFuseQueue(fuseDir);
    return pid;
  }

  /**
   * How many requests the kernel lets the mount have outstanding to nbdfuse (FUSE's
   * {@code max_background}; 12 unless raised, its {@code congestion_threshold} 9). The loop
   * device's direct I/O reaches nbdfuse as such background requests, so 12 bounded the device's
   * queue depth below what the proxy and the engine take: raising it to 64 gave 4 KiB random
   * reads QD32 about 15-20% more on this path (docs/BENCHMARKS.md).
   */
  static final int FUSE_QUEUE = 64;

  /**
   * Raises the mount's FUSE queue through fusectl ({@code /sys/fs/fuse/connections/N}, N the
   * minor number of the mount's device), mounting fusectl first where it is not. Best effort:
   * the device works without it, only with less queue depth; a failure is logged and ignored.
   */
  private static void raiseFuseQueue(Path fuseDir) {
    try {
      Path connection = fuseConnection(fuseDir);
      if (!Files.isDirectory(connection)) {
        Commands.tryRun(10, "mount", "-t", "fusectl", "fusectl", connection.getParent().toString());
      }
      Files.writeString(connection.resolve("max_background"), Integer.toString(FUSE_QUEUE));
      Files.writeString(connection.resolve("congestion_threshold"), Integer.toString(FUSE_QUEUE * 3 / 4));
    } catch (IOException | RuntimeException e) {
      System.getLogger(LoopAttacher.class.getName()).log(System.Logger.Level.WARNING,
          "could not raise the FUSE queue of " + fuseDir + " (the device works with FUSE's default of 12): " + e);
    }
  }

  /** The FUSE queue (max_background) the kernel gives the mount at fuseDir, for checks. */
  static int fuseQueue(Path fuseDir) throws IOException {
    return Integer.parseInt(Files.readString(fuseConnection(fuseDir).resolve("max_background")).strip());
  }

  /** fusectl's folder of the mount at fuseDir: named after the minor number of its device. */
  private static Path fuseConnection(Path fuseDir) throws IOException {
    long dev = ((Number) Files.getAttribute(fuseDir, "unix:dev")).longValue();
    long minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
    return Path.of("/sys/fs/fuse/connections", Long.toString(minor));
  }

  /** Undoes {@link #attach}; every step is skipped when it is undone already. */
  static void detach(Attachment attachment) throws IOException {
    if (backs(attachment)) {
      Commands.run("losetup", "--detach", attachment.device());
    }
    release(attachment);
  }

  /** Lets go of what the loop device was on: the NBD device and its proxy, or the FUSE mount and its proxy. */
  private static void release(Attachment attachment) throws IOException {
    if (attachment.method() == AttachMethod.NBD_CLIENT) {
      NbdClientDevice.disconnect(attachment.backing(), attachment.dir(), attachment.helperPid());
    } else {
      detachFuse(attachment.dir(), Optional.of(attachment.helperPid()));
    }
  }

  /**
   * Drops an attachment whose device died, as far as it goes, without waiting on anything that
   * may hang (mounts of it are the caller's): the loop device, the NBD device or FUSE mount
   * (lazily), and its helper process.
   */
  static void abandon(Attachment attachment) throws IOException {
    Commands.tryRun(30, "losetup", "--detach", attachment.device());
    if (attachment.method() == AttachMethod.NBD_CLIENT) {
      Commands.tryRun(30, "nbd-client", "-d", attachment.backing());
    } else {
      Commands.tryRun(30, "fusermount3", "-u", "-z", attachment.dir().toString());
    }
    ProcessHandle.of(attachment.helperPid()).ifPresent(ProcessHandle::destroy);
    if (attachment.method() == AttachMethod.NBDFUSE_LOOP) {
      ProxyProcess.stop(proxyFile(attachment.dir(), ".proxy.pid"));
    }
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

  /**
   * Is the loop device still backed by what the attachment put it on (and not reused for another)?
   * By the backing file's device and inode where its path no longer reads the same: the kernel
   * names the file through the mount the loop device was opened on, and in a pod that mount
   * belonged to the plugin container that attached it; once that container is gone the name
   * reads differently, though the file (the same FUSE file system, reached here through another
   * mount of it) is the same and serves on.
   */
  static boolean backs(Attachment attachment) throws IOException {
    Commands.Result result = Commands.tryRun(30, "losetup", "--noheadings", "--output",
        "BACK-MAJ:MIN,BACK-INO,BACK-FILE", attachment.device());
    if (result.exitCode() != 0) {
      return false;
    }
    String[] fields = result.output().strip().split("\\s+", 3);
    String backing = fields.length == 3 ? fields[2] : "";
    if (backing.equals(attachment.backing()) || backing.startsWith(attachment.backing() + " ")) {
      return true;
    }
    return fields.length >= 2 && fileId(Path.of(attachment.backing())).map(id -> id.equals(fields[0] + " " + fields[1]))
        .orElse(false);
  }

  /** "MAJOR:MINOR INODE" of a file, as losetup prints a backing file's, if it can be read. */
  static Optional<String> fileId(Path file) {
    try {
      long dev = (Long) Files.getAttribute(file, "unix:dev");
      long ino = (Long) Files.getAttribute(file, "unix:ino");
      // glibc's gnu_dev_major / gnu_dev_minor
      long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
      long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
      return Optional.of(major + ":" + minor + " " + ino);
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Does the device still work: its helpers alive, the FUSE mount or NBD device there, the loop on it? */
  static boolean alive(Attachment attachment) throws IOException {
    boolean below = attachment.method() == AttachMethod.NBD_CLIENT
        ? NbdClientDevice.alive(attachment.backing(), attachment.helperPid())
        : ProcessHandle.of(attachment.helperPid()).map(ProcessHandle::isAlive).orElse(false)
            && ProxyProcess.aliveOrAbsent(proxyFile(attachment.dir(), ".proxy.pid"))
            && Mounts.isMountPoint(attachment.dir());
    return below && backs(attachment);
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
    // nbdfuse's end closed the proxy's last client, so the proxy is ending by itself; this makes
    // sure it has ended before the detach returns.
    ProxyProcess.stop(proxyFile(fuseDir, ".proxy.pid"));
    Files.deleteIfExists(ProxyProcess.socketFor(fuseDir));
  }

  static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
