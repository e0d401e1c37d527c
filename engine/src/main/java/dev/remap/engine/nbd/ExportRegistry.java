package dev.remap.engine.nbd;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.cache.RamCache;
import dev.remap.engine.metrics.EngineMetrics;
import dev.remap.engine.queue.RequestQueue;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The exports of a store, looked up when a client asks (NBD_OPT_LIST, INFO, GO), so volumes
 * created, cloned or deleted while serving appear and disappear without a restart: each volume
 * by its name (read-write) and each snapshot as {@code VOLUME@SNAPSHOT} (read-only).
 *
 * <p>An export's stack is opened by its first connection and closed when its last connection
 * ends. Closing rather than keeping it releases the volume's node lock (so {@code remap volume
 * delete}, resize or another server can take it once clients are gone) and pushes its journal
 * to the store; reopening costs one mapping load, which clients that reconnect barely notice.
 *
 * <p>Locking: {@code this} guards {@code slots}. Opening and closing a stack (store I/O, journal
 * replay, upload) happen outside the lock; a slot that is opening or closing makes other
 * connections for the same name wait for that to finish, so one process never opens a volume twice.
 */
final class ExportRegistry implements Negotiation.Catalog<ServedExport> {

  private static final Logger LOG = Logger.getLogger(ExportRegistry.class.getName());

  /**
   * How each export's stack is built.
   *
   * @param growthRoom volume exports advertise the largest size their volume may grow to
   *     ({@link GrowthRoom}) instead of its current size
   */
  record Settings(long ramCacheBytes, int ramPageSize, int workers, int queueCapacity, int maxMerged,
      boolean growthRoom) {}

  private static final class Slot {
    CompletableFuture<Void> settled = new CompletableFuture<>();
    ServedExport export;
    int connections;
    boolean closing;
  }

  private final VolumeManager volumes;
  private final Settings settings;
  private final EngineMetrics metrics;
  private final Map<String, Slot> slots = new HashMap<>();
  /** RAM cache sizes given for single exports (the node's per-volume class parameter). */
  private final Map<String, Long> ramCacheByExport = new java.util.concurrent.ConcurrentHashMap<>();
  private boolean closed;

  ExportRegistry(VolumeManager volumes, Settings settings, EngineMetrics metrics) {
    this.volumes = volumes;
    this.settings = settings;
    this.metrics = metrics;
  }

  @Override
  public List<String> names() throws IOException {
    List<String> names = new ArrayList<>();
    for (VolumeMeta meta : volumes.list()) {
      names.add(meta.name());
      for (ObjectInfo snapshot : volumes.store().list(StoreLayout.snapshotPrefix(meta.name()))) {
        names.add(meta.name() + "@" + StoreLayout.nameOf(snapshot.key(), ".map"));
      }
    }
    return names;
  }

  @Override
  public Optional<ExportInfo> describe(String name) throws IOException {
    synchronized (this) {
      Slot slot = slots.get(name);
      if (slot != null && slot.export != null) {
        return Optional.of(slot.export.info());
      }
    }
    Snapshot snapshot = Snapshot.parse(name);
    if (snapshot == null) {
      if (!validVolumeName(name)) {
        return Optional.empty();
      }
      return volumes.find(name).map(m -> new ExportInfo(name, advertised(m.geometry()), false, m.geometry().blockSize()));
    }
    if (!snapshot.exists(volumes)) {
      return Optional.empty();
    }
    try (BlockDevice device = volumes.openSnapshot(snapshot.volume(), snapshot.name())) {
      return Optional.of(new ExportInfo(name, device.size(), true, device.blockSize()));
    }
  }

  @Override
  public Optional<ServedExport> open(String name) throws IOException {
    while (true) {
      Slot slot;
      CompletableFuture<Void> busy = null;
      boolean mine = false;
      synchronized (this) {
        if (closed) {
          throw new IOException("the server is shutting down");
        }
        slot = slots.get(name);
        if (slot == null) {
          slot = new Slot();
          slots.put(name, slot);
          mine = true;
        } else if (slot.export != null && !slot.closing) {
          slot.connections++;
          return Optional.of(slot.export);
        } else {
          busy = slot.settled;
        }
      }
      if (!mine) {
        busy.join(); // another connection is opening or closing this export: wait, then look again
        continue;
      }
      ServedExport export = null;
      try {
        export = openStack(name);
        return Optional.ofNullable(export);
      } finally {
        synchronized (this) {
          if (export == null) {
            slots.remove(name);
          } else {
            slot.export = export;
            slot.connections = 1;
          }
        }
        slot.settled.complete(null);
      }
    }
  }

  /**
   * Gives one export its own RAM cache size (0: none), or the server's again when empty. It
   * applies from the next time the export's stack is opened (its first connection).
   */
  void ramCacheFor(String name, java.util.OptionalLong bytes) {
    if (bytes.isPresent()) {
      if (bytes.getAsLong() < 0) {
        throw new IllegalArgumentException("a RAM cache size cannot be negative");
      }
      ramCacheByExport.put(name, bytes.getAsLong());
    } else {
      ramCacheByExport.remove(name);
    }
  }

  /** The export's stack if it is open now (some client is connected to it). */
  synchronized Optional<ServedExport> openNow(String name) {
    Slot slot = slots.get(name);
    return slot == null || slot.closing ? Optional.empty() : Optional.ofNullable(slot.export);
  }

  /** A connection to the export has ended; the last one closes the stack. */
  void release(ServedExport export) {
    String name = export.info().name();
    CompletableFuture<Void> closed;
    synchronized (this) {
      Slot slot = slots.get(name);
      if (slot == null || slot.export != export || slot.closing || --slot.connections > 0) {
        return;
      }
      // The slot stays while the stack closes, so that a newcomer waits instead of opening twice.
      slot.closing = true;
      slot.settled = new CompletableFuture<>();
      closed = slot.settled;
    }
    closeQuietly(export);
    synchronized (this) {
      slots.remove(name);
    }
    closed.complete(null);
  }

  /** Closes every open stack; connections must be gone already. */
  void close() {
    List<ServedExport> open = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Slot slot : slots.values()) {
        if (slot.export != null && !slot.closing) {
          slot.closing = true;
          open.add(slot.export);
        }
      }
    }
    for (ServedExport export : open) {
      closeQuietly(export);
    }
  }

  private ServedExport openStack(String name) throws IOException {
    Snapshot snapshot = Snapshot.parse(name);
    BlockDevice base;
    if (snapshot != null) {
      if (!snapshot.exists(volumes)) {
        return null;
      }
      base = volumes.openSnapshot(snapshot.volume(), snapshot.name());
    } else {
      if (!validVolumeName(name) || volumes.find(name).isEmpty()) {
        return null;
      }
      base = volumes.open(name);
    }
    try {
      long advertised = base instanceof Volume volume ? advertised(volume.meta().geometry()) : base.size();
      ExportInfo info = new ExportInfo(name, advertised, base.isReadOnly(), base.blockSize());
      long ramCacheBytes = ramCacheByExport.getOrDefault(name, settings.ramCacheBytes());
      RamCache cache = null;
      if (ramCacheBytes > 0) {
        int page = Math.max(settings.ramPageSize(), base.blockSize());
        if (base instanceof Volume volume) {
          // Pages are good only while this process owns the volume; on taking it back from
          // another node they are dropped before anything is served.
          RamCache owned = new RamCache(base, ramCacheBytes, page, volume::isOwner);
          volume.onAcquired(owned::clear);
          cache = owned;
        } else {
          cache = new RamCache(base, ramCacheBytes, page);
        }
      }
      BlockDevice top = cache != null ? cache : base;
      if (advertised > base.size()) {
        top = new GrowthRoom(name, top, advertised);
      }
      RequestQueue queue = new RequestQueue(top, name, settings.workers(), settings.queueCapacity(),
          settings.maxMerged());
      if (base instanceof Volume volume) {
        RamCache ram = cache;
        volume.countUsage(() -> usage(queue.counters(), ram));
      }
      LOG.fine(() -> "opened export " + name);
      ServedExport export = new ServedExport(info, base, top, cache, queue, metrics.volume(name));
      export.meters().attach(export::figures);
      return export;
    } catch (RuntimeException e) {
      base.close();
      throw e;
    }
  }

  /** The export's counters as the volume's usage: requests past the RAM front, and RAM hits. */
  private static dev.remap.engine.volume.Usage usage(RequestQueue.Counters queue, RamCache ram) {
    int read = dev.remap.engine.core.RequestMerger.Kind.READ.ordinal();
    int write = dev.remap.engine.core.RequestMerger.Kind.WRITE.ordinal();
    long hits = 0;
    long misses = 0;
    if (ram != null) {
      var tier = ram.counters();
      hits = tier.hits();
      misses = tier.misses();
    }
    return new dev.remap.engine.volume.Usage(queue.requests()[read], queue.requests()[write], queue.bytes()[read],
        queue.bytes()[write], hits, misses, 0, 0);
  }

  /** The size a volume export advertises: its own, or with growth room its largest. */
  private long advertised(dev.remap.engine.core.Geometry geometry) {
    return settings.growthRoom() ? Math.max(geometry.size(), geometry.maxSize()) : geometry.size();
  }

  private static void closeQuietly(ServedExport export) {
    try {
      export.close();
      LOG.fine(() -> "closed export " + export.info().name());
    } catch (IOException | RuntimeException e) {
      // The journal keeps whatever could not be uploaded; the next open replays it.
      LOG.log(Level.WARNING, "closing export " + export.info().name() + " failed: " + e.getMessage(), e);
    } finally {
      // After the close, so that what its last uploads counted is carried on too.
      export.meters().detach();
    }
  }

  private static boolean validVolumeName(String name) {
    try {
      StoreLayout.requireName("volume", name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** VOLUME@SNAPSHOT, both parts valid names. */
  private record Snapshot(String volume, String name) {
    static Snapshot parse(String export) {
      int at = export.indexOf('@');
      if (at < 0) {
        return null;
      }
      return new Snapshot(export.substring(0, at), export.substring(at + 1));
    }

    boolean exists(VolumeManager volumes) throws IOException {
      if (!validVolumeName(volume) || !validVolumeName(name)) {
        return false;
      }
      return volumes.store().stat(StoreLayout.snapshot(volume, name)).isPresent();
    }
  }
}
