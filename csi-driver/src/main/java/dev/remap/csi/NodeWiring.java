package dev.remap.csi;

import dev.remap.csi.node.AttachMethod;
import dev.remap.csi.node.HelperLauncher;
import dev.remap.csi.node.HostFacts;
import dev.remap.csi.node.KeeperClient;
import dev.remap.csi.node.NodeHost;
import dev.remap.csi.node.NodeService;
import dev.remap.csi.node.NodeStartup;
import dev.remap.csi.node.SwapVolumes;
import dev.remap.csi.server.NameLocks;
import dev.remap.engine.export.ExportSource;
import dev.remap.engine.export.ExportSources;
import dev.remap.engine.metrics.EngineMetrics;
import dev.remap.engine.metrics.SwapMeters;
import dev.remap.engine.swap.PagePool;
import dev.remap.engine.swap.SwapExports;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.export.VolumeExports;
import dev.remap.engine.nbd.NbdServer;
import io.micrometer.core.instrument.Gauge;
import dev.remap.engine.volume.VolumeManager;
import io.grpc.BindableService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.UncheckedIOException;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import dev.remap.csi.node.CacheSizes;
import dev.remap.engine.cache.DiskCache;

/**
 * The node side: this node's NBD server (every volume of the store, and the node's swap disks, on
 * a Unix socket in the state folder; nbdfuse connects to it), the node service, and the recovery
 * of what a previous run staged. The NBD server opens a volume when its device attaches and
 * closes it when the device goes, so staged volumes hold the engine's single-writer lock and
 * nothing else does. Swap disks live in the node's page pool (--swap-pool) from the stage of
 * their swap volume to its unstage, and with this process. Share disks (volumes named {@code share-...},
 * each VM's clone of a share group's base disk) read their store data through one disk cache of
 * the node (--share-cache), so that N VMs of a group read a block of the base from the store once.
 */
final class NodeWiring implements AutoCloseable {

  private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(NodeWiring.class.getName());

  /** Blocks of store objects the disk tier keeps (as `remap serve --cache-dir` does). */
  private static final int DISK_CACHE_BLOCK = 256 << 10;

  /**
   * How share disks are named (ShareBuilder.volumeName, and ShareAgent.vmVolume after it): the
   * volumes whose reads go through the node's share cache.
   */
  static final String SHARE_DISK_PREFIX = dev.remap.engine.share.ShareBuilder.VOLUME_PREFIX;

  private final NodeService service;
  private final NbdServer nbd;
  private final Optional<SwapExports> swapDisks;

  private final VolumeStacks stacks;

  private NodeWiring(NodeService service, NbdServer nbd, Optional<SwapExports> swapDisks, VolumeStacks stacks) {
    this.service = service;
    this.nbd = nbd;
    this.swapDisks = swapDisks;
    this.stacks = stacks;
  }

  static NodeWiring start(DriverConfig config, VolumeManager manager, NameLocks locks, EngineMetrics metrics)
      throws IOException {
    Files.createDirectories(config.stateDir());
    Path socket = config.stateDir().resolve("nbd.sock");
    // Devices of volumes staged by a previous run reconnect as soon as the socket is there: their
    // RAM cache sizes must be in place before it is.
    NodeStartup startup = NodeStartup.load(config.stateDir());
    VolumeStacks stacks = new VolumeStacks(manager, config.stateDir().resolve("disk-cache"),
        shareCache(config, manager, metrics));
    startup.cacheSizes().forEach(stacks::apply);
    Optional<SwapExports> swapDisks = config.swapPool() > 0
        ? Optional.of(new SwapExports(new PagePool(config.swapPool()))) : Optional.empty();
    Optional<SwapMeters> swapMeters = swapDisks.map(d -> new SwapMeters(metrics.registry(), d.pool()));
    AttachMethod method = attachMethod();
    HelperLauncher helpers = helpers(config);
    Path devices = config.stateDir().resolve("devices");
    SwapVolumes swaps = new SwapVolumes(config.nodeId(), swapDisks, swapMeters, socket, method, devices, helpers);
    // Before the socket too: a staged swap volume's device reconnects to its disk, made again, empty.
    startup.swapDisks().forEach(swaps::remake);
    // Swap disks first, as `remap serve` has them (a swap volume's id, swap/NS/NAME, is no store name anyway).
    // Growth room: the devices' exports advertise the largest size their volume may reach, so a
    // device grows without reconnecting (LoopAttacher, NodeExpandVolume); a swap disk's stays its size.
    ExportSource volumes = new VolumeExports(manager);
    NbdServer nbd;
    try {
      nbd = NbdServer.start(swaps.exports().map(s -> ExportSources.of(s, volumes)).orElse(volumes),
          NbdServer.Options.unix(socket).withGrowthRoom(), stacks, metrics);
    } catch (IOException | RuntimeException e) {
      closeQuietly(swapDisks);
      throw e;
    }
    try {
      NodeHost host = new NodeHost(socket, method, devices, manager, config.journalDir(), stacks::apply, helpers);
      NodeService service = startup.start(config.nodeId(), manager, locks, host, swaps);
      Gauge.builder("remap.staged.volumes", service, NodeService::stagedVolumes)
          .description("Volumes staged on this node.").strongReference(true).register(metrics.registry());
      return new NodeWiring(service, nbd, swapDisks, stacks);
    } catch (RuntimeException e) {
      nbd.close();
      closeQuietly(swapDisks);
      throw e;
    }
  }

  /**
   * The node's one read cache of share disks, in the state folder so that it outlives a restart of
   * the plugin (content objects never change: its blocks stay good); none with --share-cache 0,
   * and then a folder left by an earlier run is removed to give its space back.
   */
  private static Optional<DiskCache> shareCache(DriverConfig config, VolumeManager manager, EngineMetrics metrics)
      throws IOException {
    Path dir = config.stateDir().resolve("share-cache");
    if (config.shareCache() == 0) {
      deleteTree(dir);
      return Optional.empty();
    }
    DiskCache cache = new DiskCache(manager.store(), dir, config.shareCache(), DISK_CACHE_BLOCK);
    Gauge.builder("remap.share.cache.used.bytes", cache, c -> c.counters().usedBytes())
        .description("Bytes of store blocks in the node's read cache of share disks.").strongReference(true)
        .register(metrics.registry());
    LOG.info(() -> "share disks read through the node's cache in " + dir + " (" + config.shareCache() + " bytes)");
    return Optional.of(cache);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private static void closeQuietly(Optional<SwapExports> swapDisks) {
    try {
      if (swapDisks.isPresent()) {
        swapDisks.get().close();
      }
    } catch (IOException e) {
      LOG.warning(() -> "closing the node's swap disks: " + e.getMessage());
    }
  }

  /**
   * Where device helpers run: the node's helper keeper when one is configured (in a pod, so that
   * devices outlive this container), else as this process's children. A keeper that does not
   * answer yet is only logged: attaching fails naming it until it does.
   */
  private static HelperLauncher helpers(DriverConfig config) {
    if (config.helperKeeper() == null) {
      return HelperLauncher.LOCAL;
    }
    KeeperClient keeper = new KeeperClient(config.helperKeeper());
    try {
      long pid = keeper.ping();
      LOG.info(() -> "device helpers are started by the helper keeper on " + config.helperKeeper() + " (pid " + pid + ")");
    } catch (IOException e) {
      LOG.warning(e.getMessage());
    }
    return keeper;
  }

  /**
   * The kernel NBD client where this host has it, else nbdfuse. When neither is complete the
   * fallback is used anyway, so that NodeStageVolume fails naming the command that is missing.
   */
  private static AttachMethod attachMethod() {
    HostFacts facts = HostFacts.probe();
    Optional<AttachMethod> chosen = AttachMethod.choose(facts);
    if (chosen.isPresent()) {
      LOG.info(() -> "node attach: " + chosen.get().description());
      return chosen.get();
    }
    LOG.warning(() -> "this host lacks what attaching volumes needs: "
        + String.join("; ", AttachMethod.missingFor(AttachMethod.NBDFUSE_LOOP, facts)));
    return AttachMethod.NBDFUSE_LOOP;
  }

  /**
   * The stack of each staged volume's export, as its class asked: its RAM tier size and its own
   * local-disk tier, in a folder of its own (kept across restarts: store objects never change, so
   * the blocks stay valid; taken away with its folder, to give the space back, when the volume
   * leaves the node). The NBD server asks for a volume's stack when its export opens (its device
   * attaches), so sizes given before that are the ones it gets. One disk tier per folder: asking
   * again with the same size keeps the one in use. A share disk whose class asks for no disk tier
   * of its own reads through the node's share cache: its blocks are the other VMs' blocks too.
   */
  private static final class VolumeStacks implements StackSpec.Chooser {
    private record DiskTier(DiskCache cache, long bytes) {}

    private final VolumeManager manager;
    private final Path root;
    private final Map<String, CacheSizes> wanted = new ConcurrentHashMap<>();
    private final Map<String, DiskTier> disks = new ConcurrentHashMap<>();
    private final Optional<DiskCache> shareCache;

    VolumeStacks(VolumeManager manager, Path root, Optional<DiskCache> shareCache) {
      this.manager = manager;
      this.root = root;
      this.shareCache = shareCache;
    }

    @Override
    public StackSpec choose(String export, StackSpec defaults) {
      CacheSizes sizes = wanted.get(export);
      StackSpec spec = sizes != null && sizes.ram().isPresent()
          ? defaults.withRamCache(sizes.ram().getAsLong()) : defaults;
      DiskTier disk = disks.get(export);
      if (disk != null) {
        return spec.withDiskTier(Optional.of(disk.cache()));
      }
      if (shareCache.isPresent() && export.startsWith(SHARE_DISK_PREFIX)) {
        return spec.withDiskTier(Optional.of(shareCache.get()));
      }
      return spec;
    }

    synchronized void apply(String volume, CacheSizes sizes) {
      wanted.put(volume, sizes);
      Path dir = root.resolve(volume);
      long bytes = sizes.disk().orElse(0);
      DiskTier current = disks.get(volume);
      if ((current == null ? 0 : current.bytes()) == bytes) {
        return;
      }
      try {
        // The tier replaced or removed lets its open block files go; an export still reading
        // through it reads on (a closed tier opens a file per read and writes its fills itself).
        if (current != null) {
          current.cache().close();
        }
        if (bytes > 0) {
          disks.put(volume, new DiskTier(new DiskCache(manager.store(), dir, bytes, DISK_CACHE_BLOCK), bytes));
          return;
        }
        disks.remove(volume);
        deleteTree(dir);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot set up the disk cache of volume " + volume + " in " + dir, e);
      }
    }

    /** The disk tiers write the blocks they fetched (a restart finds them) and let their files go. */
    synchronized void close() {
      disks.values().forEach(d -> d.cache().close());
      shareCache.ifPresent(DiskCache::close);
    }
  }

  BindableService service() {
    return service;
  }

  /** Why the node cannot serve its devices now, if it cannot (its NBD server is down). */
  Optional<String> problem() {
    return nbd.problem();
  }

  /** The NBD server first (no request reaches a disk any more), then the swap disks: their pages and spill files go. */
  @Override
  public void close() {
    nbd.close();
    closeQuietly(swapDisks);
    stacks.close();
  }
}
