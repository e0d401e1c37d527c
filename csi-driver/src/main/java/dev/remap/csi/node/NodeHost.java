package dev.remap.csi.node;

import dev.remap.csi.server.Rpc;
import dev.remap.csi.spec.Csi;
import dev.remap.engine.volume.VolumeManager;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.logging.Logger;

/**
 * The host side of the node plugin: attach, mount, bind, and their undoing, for volumes the
 * node's NBD server serves on {@code nbdSocket}. Each volume's attachment lives in
 * {@code attachRoot/VOLUME} (its FUSE mount, or the socket of its kernel client's proxy).
 * No state of its own and no locking: {@link NodeService} holds the volume's lock and persists
 * what this returns.
 */
public final class NodeHost {

  private static final Logger LOG = Logger.getLogger(NodeHost.class.getName());

  /** How long unstage waits for the engine to push a volume's journal and release it. */
  private static final Duration RELEASE_TIMEOUT = Duration.ofMinutes(2);

  private final Path nbdSocket;
  private final AttachMethod method;
  private final Path attachRoot;
  private final VolumeManager volumes;
  private final Path journalDir;
  private final BiConsumer<String, CacheSizes> caches;
  private final HelperLauncher helpers;

  /**
   * @param caches gives a volume its own cache tiers before it is next opened ({@link
   *     CacheSizes#NONE}: the node's defaults again)
   */
  public NodeHost(Path nbdSocket, AttachMethod method, Path attachRoot, VolumeManager volumes, Path journalDir,
      BiConsumer<String, CacheSizes> caches, HelperLauncher helpers) {
    this.nbdSocket = nbdSocket;
    this.method = method;
    this.attachRoot = attachRoot;
    this.volumes = volumes;
    this.journalDir = journalDir;
    this.caches = caches;
    this.helpers = helpers;
  }

  /**
   * Attaches the volume (with the cache sizes its class asked for, if any) and, for a mount
   * capability, makes its filesystem once and mounts it.
   */
  StagedVolume stage(String volume, Path staging, Csi.VolumeCapability capability, boolean readOnly,
      CacheSizes sizes) throws IOException {
    // Before the attach: the export's stack is built, with its caches, at the first connection.
    caches.accept(volume, sizes);
    LoopAttacher.Attachment attachment;
    try {
      attachment = LoopAttacher.attach(method, volume, nbdSocket, attachRoot.resolve(volume), readOnly,
          currentSize(volume), helpers);
    } catch (IOException | RuntimeException e) {
      caches.accept(volume, CacheSizes.NONE);
      throw e;
    }
    try {
      String fsType = "";
      if (capability.hasMount()) {
        fsType = mountFilesystem(attachment.device(), staging, capability.getMount(), readOnly);
      }
      String mode = capability.getAccessMode().getMode().name();
      return new StagedVolume(volume, staging, capability.hasBlock(), fsType, readOnly, mode, attachment, Map.of(),
          sizes);
    } catch (IOException | RuntimeException e) {
      LoopAttacher.detach(attachment);
      caches.accept(volume, CacheSizes.NONE);
      throw e;
    }
  }

  private static String mountFilesystem(String device, Path staging, Csi.VolumeCapability.MountVolume mount,
      boolean readOnly) throws IOException {
    String asked = mount.getFsType().isEmpty() ? "ext4" : mount.getFsType();
    Optional<String> existing = Mounts.filesystemOf(device);
    if (existing.isPresent() && !mount.getFsType().isEmpty() && !existing.get().equals(asked)) {
      throw Rpc.failedPrecondition("volume_capability.mount.fs_type: the volume holds a " + existing.get()
          + " filesystem, not " + asked);
    }
    if (existing.isEmpty()) {
      if (readOnly) {
        throw Rpc.failedPrecondition("the volume holds no filesystem, and a read-only access mode cannot make one");
      }
      Mounts.makeFilesystem(device, asked);
    }
    String type = existing.orElse(asked);
    Files.createDirectories(staging);
    if (!Mounts.isMountPoint(staging)) {
      if (existing.isPresent() && !readOnly) {
        Mounts.growUnmounted(device, type);
      }
      Mounts.mount(device, staging, type, mount.getMountFlagsList(), readOnly);
    }
    return type;
  }

  void unstage(StagedVolume staged) throws IOException {
    if (!staged.block()) {
      Mounts.unmountAll(staged.stagingPath());
    }
    LoopAttacher.detach(staged.attachment());
    caches.accept(staged.volume(), CacheSizes.NONE);
    if (!EngineRelease.await(volumes, journalDir, staged.volume(), RELEASE_TIMEOUT)) {
      throw Rpc.unavailable("volume " + staged.volume() + " is detached but the engine is still pushing its "
          + "journal to the store; retry NodeUnstageVolume");
    }
  }

  /** Block: bind the device onto a file at target. Mount: bind the staged folder onto target. */
  void publish(StagedVolume staged, Path target, boolean readOnly) throws IOException {
    Files.createDirectories(target.getParent());
    if (staged.block()) {
      if (!Files.exists(target)) {
        Files.createFile(target);
      }
      if (!Mounts.isMountPoint(target)) {
        Mounts.bind(Path.of(staged.attachment().device()), target, readOnly);
      }
    } else {
      Files.createDirectories(target);
      if (!Mounts.isMountPoint(target)) {
        Mounts.bind(staged.stagingPath(), target, readOnly);
      }
    }
  }

  /** Unmounts target and removes it (the file or folder publish made); nothing to do when it is gone. */
  void unpublish(Path target) throws IOException {
    if (!Files.exists(target)) {
      return;
    }
    Mounts.unmountAll(target);
    if (Files.isDirectory(target)) {
      try (var entries = Files.list(target)) {
        if (entries.findAny().isPresent()) {
          throw new IOException(target + " is not empty after unmounting it: not removing it");
        }
      }
    }
    Files.delete(target);
  }

  List<Csi.VolumeUsage> usage(StagedVolume staged, Path path) throws IOException {
    if (staged.block()) {
      return List.of(Csi.VolumeUsage.newBuilder().setUnit(Csi.VolumeUsage.Unit.BYTES)
          .setTotal(LoopAttacher.size(staged.attachment().device())).build());
    }
    FileStore fs = Files.getFileStore(path);
    long[] inodes = Mounts.inodes(path);
    return List.of(
        Csi.VolumeUsage.newBuilder().setUnit(Csi.VolumeUsage.Unit.BYTES).setTotal(fs.getTotalSpace())
            .setAvailable(fs.getUsableSpace()).setUsed(fs.getTotalSpace() - fs.getUnallocatedSpace()).build(),
        Csi.VolumeUsage.newBuilder().setUnit(Csi.VolumeUsage.Unit.INODES).setTotal(inodes[0])
            .setAvailable(inodes[1]).setUsed(inodes[0] - inodes[1]).build());
  }

  /**
   * Grows a staged volume's device, in use, to the volume's size in the store (which
   * ControllerExpandVolume set, possibly in another process), and then its filesystem. The
   * engine's served instance learns the size first, so that the device's new end is writable
   * before the device shows it. Asking for more than the store holds is FAILED_PRECONDITION:
   * the controller grows volumes, the node only catches up.
   */
  long grow(StagedVolume staged, long required) throws IOException {
    String device = staged.attachment().device();
    long size = volumes.refreshSize(staged.volume()).geometry().size();
    if (required > size) {
      throw Rpc.failedPrecondition("volume " + staged.volume() + " is " + size + " bytes in the store, less than the "
          + required + " asked: ControllerExpandVolume grows it first");
    }
    if (LoopAttacher.size(device) < size) {
      LoopAttacher.resize(device, size);
      LOG.info(() -> "grew the device " + device + " of volume " + staged.volume() + " to " + size + " bytes");
    }
    if (!staged.block() && !staged.readOnly()) {
      Mounts.growFilesystem(device, staged.stagingPath(), staged.fsType());
    }
    return size;
  }

  /** The volume's size in the store: what a fresh attachment shows. */
  private long currentSize(String volume) throws IOException {
    return volumes.find(volume).orElseThrow(() -> Rpc.notFound("volume " + volume + " does not exist in "
        + volumes.store().describe())).geometry().size();
  }

  /**
   * Takes over a volume staged by a previous run of the plugin. Normally its device is still
   * there: nbdfuse and its proxy outlived that run, and the proxy reconnects to this run's NBD
   * server on the device's next request, so the mounts stay as they are and programs using them
   * see a stall, not an error. Only if the device died too (nbdfuse killed, host tools gone) is
   * it replaced: the old mounts are lazily unmounted, a fresh device attached, and the staging
   * mount and each target mount made again at the same paths (programs that held files open on
   * the old mounts get I/O errors then). Either way, data acknowledged before the restart is in
   * the journal and reappears.
   */
  StagedVolume recover(StagedVolume staged) throws IOException {
    caches.accept(staged.volume(), staged.caches());
    LoopAttacher.Attachment old = staged.attachment();
    boolean alive = LoopAttacher.alive(old);
    StagedVolume current = alive ? staged : staged.withAttachment(reattach(staged));
    // Mounts are made again only where they are missing: all of them after a re-attach.
    if (!current.block() && !Mounts.isMountPoint(current.stagingPath())) {
      Files.createDirectories(current.stagingPath());
      Mounts.mount(current.attachment().device(), current.stagingPath(), current.fsType(), List.of(),
          current.readOnly());
    }
    for (Map.Entry<Path, Boolean> target : current.targets().entrySet()) {
      publish(current, target.getKey(), target.getValue());
    }
    LOG.info(() -> alive
        ? "staged volume " + staged.volume() + " is still attached as " + old.device()
            + "; its device reconnects to this plugin's engine"
        : "the device of staged volume " + staged.volume() + " had died; re-attached as "
            + current.attachment().device());
    return current;
  }

  /** Lets go of a dead device and every mount of it, and attaches the volume afresh. */
  private LoopAttacher.Attachment reattach(StagedVolume staged) throws IOException {
    LoopAttacher.Attachment old = staged.attachment();
    for (Path target : staged.targets().keySet()) {
      lazyUnmount(target);
    }
    if (!staged.block()) {
      lazyUnmount(staged.stagingPath());
    }
    LoopAttacher.abandon(old);
    return LoopAttacher.attach(method, staged.volume(), nbdSocket, attachRoot.resolve(staged.volume()),
        staged.readOnly(), currentSize(staged.volume()), helpers);
  }

  private static void lazyUnmount(Path path) throws IOException {
    for (int i = 0; i < 8 && Mounts.isMountPoint(path); i++) {
      Commands.tryRun(30, "umount", "-l", path.toString());
    }
  }
}
