package dev.remap.csi.node;

import dev.remap.csi.server.Rpc;
import dev.remap.csi.spec.Csi;
import dev.remap.engine.export.ExportBase;
import dev.remap.engine.export.ExportDescription;
import dev.remap.engine.export.ExportSource;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.metrics.SwapMeters;
import dev.remap.engine.swap.PoolExhaustedException;
import dev.remap.engine.swap.SwapDisk;
import dev.remap.engine.swap.SwapExports;
import dev.remap.engine.swap.SwapSpec;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The node's swap volumes (VmMemorySwap, docs/CSI.md "Swap volumes"): a swap disk in the node's
 * pool, served by the node's NBD server under the volume id, and attached as a block device the
 * same way a volume of the store is ({@link LoopAttacher}), so that publishing it is the same too.
 * A swap volume is never in the store: it is made at stage and dropped at unstage, and nothing
 * of it outlives the plugin's process. A disk staged when the plugin restarted is made again,
 * empty, with its signature, and the pages the guest had swapped out read as I/O errors
 * ({@link LostSwapPages}), never as zeros.
 *
 * <p>No locking of its own: {@link NodeService} holds the volume's name lock around each call,
 * and the engine's {@link SwapExports} guards its map.
 */
public final class SwapVolumes {

  private static final Logger LOG = Logger.getLogger(SwapVolumes.class.getName());

  private final String nodeId;
  private final Optional<SwapExports> disks;
  private final Optional<SwapMeters> meters;
  private final Path nbdSocket;
  private final AttachMethod method;
  private final Path attachRoot;
  private final HelperLauncher helpers;
  /** Disks made again after a restart, by name: their pages from before it are lost. */
  private final Map<String, LostSwapPages> remade = new ConcurrentHashMap<>();

  /**
   * @param disks the node's swap disks; empty when the node has no swap pool (--swap-pool 0)
   * @param meters where each disk's counters are published (the node's /metrics)
   */
  public SwapVolumes(String nodeId, Optional<SwapExports> disks, Optional<SwapMeters> meters, Path nbdSocket,
      AttachMethod method, Path attachRoot, HelperLauncher helpers) {
    this.nodeId = nodeId;
    this.disks = disks;
    this.meters = meters;
    this.nbdSocket = nbdSocket;
    this.method = method;
    this.attachRoot = attachRoot;
    this.helpers = helpers;
  }

  /** The swap disks as exports for the node's NBD server; empty without a pool. */
  public Optional<ExportSource> exports() {
    return disks.map(Exports::new);
  }

  /**
   * Makes a staged swap volume's disk again, empty, before the NBD server starts (its device
   * reconnects as soon as the socket is there). A disk that cannot be made now (a smaller pool
   * than before, its spill location gone) is logged: its device's requests fail until it is
   * unstaged.
   */
  public void remake(SwapSpec spec) {
    try {
      create(spec);
      remade.put(spec.name(), new LostSwapPages(spec.name(), spec.size(), spec.label().isPresent()));
      LOG.warning(() -> "swap volume " + spec.name() + " was staged when the node plugin stopped: its disk is made"
          + " again, empty; reads of the pages the guest had swapped out fail (swap is not durable)");
    } catch (RuntimeException | IOException e) {
      LOG.warning(() -> "cannot make swap volume " + spec.name() + " again after the restart: " + e.getMessage()
          + "; its device fails until it is unstaged");
    }
  }

  /** Creates the disk and attaches it as a block device for staging; nothing is left when it fails. */
  StagedVolume stage(String volume, Path staging, Csi.VolumeCapability capability, SwapSpec spec)
      throws IOException {
    if (!capability.hasBlock()) {
      throw Rpc.invalid("volume_capability: swap volume " + volume + " is a block device for the guest's swap;"
          + " it cannot be mounted as a filesystem");
    }
    Csi.VolumeCapability.AccessMode.Mode mode = capability.getAccessMode().getMode();
    if (mode == Csi.VolumeCapability.AccessMode.Mode.SINGLE_NODE_READER_ONLY
        || mode == Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_READER_ONLY) {
      throw Rpc.invalid("volume_capability: swap volume " + volume + " cannot be " + mode
          + ": the guest writes its swap");
    }
    SwapExports exports = disks.orElseThrow(() -> Rpc.failedPrecondition("node " + nodeId + " has no swap pool"
        + " (its node plugin runs with --swap-pool 0; chart value swap.poolSize): it cannot stage swap volume "
        + volume));
    requireSpillLocation(spec);
    // A disk without a staged record is left by a stage that failed half-way: nothing uses it.
    drop(volume);
    try {
      create(spec);
    } catch (PoolExhaustedException e) {
      throw Status.RESOURCE_EXHAUSTED.withDescription("PoolExhausted: " + e.getMessage() + " (the swap pool cap of"
          + " node " + nodeId + ", --swap-pool / swap.poolSize, is " + exports.pool().capBytes() + " bytes)")
          .asRuntimeException();
    } catch (IOException e) {
      if (spec.spill().isEmpty()) {
        throw e;
      }
      throw Rpc.invalid("volume_context." + SwapAttributes.SPILL_LOCATION + " (spill.location): " + e.getMessage());
    }
    try {
      LoopAttacher.Attachment attachment = LoopAttacher.attach(method, volume, nbdSocket, attachDir(volume), false,
          spec.size(), helpers);
      return new StagedVolume(volume, staging, true, "", false, mode.name(), attachment, Map.of(),
          CacheSizes.NONE, Optional.of(spec));
    } catch (IOException | RuntimeException e) {
      drop(volume);
      throw e;
    }
  }

  /** Detaches the device and drops the disk: its pages are gone. */
  void unstage(StagedVolume staged) throws IOException {
    LoopAttacher.detach(staged.attachment());
    drop(staged.volume());
  }

  /**
   * Takes over a swap volume staged by a previous run ({@link #remake} made its disk again): the
   * device is kept when it is still attached (it reconnects to the new disk), replaced when it
   * died, and every target is published again where it is missing.
   */
  StagedVolume recover(StagedVolume staged, NodeHost host) throws IOException {
    LoopAttacher.Attachment old = staged.attachment();
    StagedVolume current = staged;
    if (!LoopAttacher.alive(old)) {
      for (Path target : staged.targets().keySet()) {
        for (int i = 0; i < 8 && Mounts.isMountPoint(target); i++) {
          Commands.tryRun(30, "umount", "-l", target.toString());
        }
      }
      LoopAttacher.abandon(old);
      current = staged.withAttachment(LoopAttacher.attach(method, staged.volume(), nbdSocket,
          attachDir(staged.volume()), false, staged.swap().orElseThrow().size(), helpers));
    }
    for (Map.Entry<Path, Boolean> target : current.targets().entrySet()) {
      host.publish(current, target.getKey(), target.getValue());
    }
    return current;
  }

  /**
   * Outside the engine's own check so that the message names the attribute; the engine checks
   * again when it makes the file.
   */
  private void requireSpillLocation(SwapSpec spec) {
    if (spec.spill().isEmpty()) {
      return;
    }
    Path dir = spec.spill().get().directory();
    if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
      throw Rpc.invalid("volume_context." + SwapAttributes.SPILL_LOCATION + " (spill.location): " + dir + " is not "
          + (Files.isDirectory(dir) ? "writable by the node plugin" : "a directory on node " + nodeId) + ": the"
          + " swap disk's spill file is made there");
    }
  }

  private void create(SwapSpec spec) throws IOException {
    SwapExports exports = disks.orElseThrow(() -> new IllegalStateException("node " + nodeId + " has no swap pool"));
    SwapDisk disk = exports.create(spec);
    meters.ifPresent(m -> m.add(disk));
  }

  private void drop(String volume) throws IOException {
    remade.remove(volume);
    if (disks.isPresent()) {
      disks.get().remove(volume);
    }
    meters.ifPresent(m -> m.remove(volume));
  }

  /** The attachment's folder: volume ids of swap volumes hold '/', which a folder name cannot. */
  private Path attachDir(String volume) {
    return attachRoot.resolve(NodeState.fileName(volume));
  }

  /** The node's swap disks as the NBD server sees them: a disk made again guards its lost pages. */
  private final class Exports implements ExportSource {
    private final SwapExports exports;

    Exports(SwapExports exports) {
      this.exports = exports;
    }

    @Override
    public List<String> names() {
      return exports.names();
    }

    @Override
    public Optional<ExportDescription> describe(String name) {
      return exports.describe(name);
    }

    @Override
    public Optional<ExportBase> open(String name, StackSpec stack) {
      Optional<ExportBase> base = exports.open(name, stack);
      LostSwapPages lost = remade.get(name);
      if (base.isEmpty() || lost == null) {
        return base;
      }
      ExportBase b = base.get();
      return Optional.of(new ExportBase(lost.over(b.device()), b.cacheValid(),
          b.onInvalidate(), b.usage(), b.figures()));
    }
  }
}
