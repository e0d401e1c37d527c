package dev.remap.engine.nbd;

import dev.remap.engine.export.ExportBase;
import dev.remap.engine.export.ExportDescription;
import dev.remap.engine.export.ExportSource;
import dev.remap.engine.export.ExportStack;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.metrics.EngineMetrics;
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
 * The exports of a source ({@link ExportSource}), looked up when a client asks (NBD_OPT_LIST,
 * INFO, GO), so that exports created or deleted while serving appear and disappear without a
 * restart.
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

  private static final class Slot {
    CompletableFuture<Void> settled = new CompletableFuture<>();
    ServedExport export;
    int connections;
    boolean closing;
  }

  private final ExportSource source;
  /** The stack every export gets unless chooser says otherwise. */
  private final StackSpec defaults;
  private final StackSpec.Chooser chooser;
  private final EngineMetrics metrics;
  private final Map<String, Slot> slots = new HashMap<>();
  private boolean closed;

  ExportRegistry(ExportSource source, StackSpec defaults, StackSpec.Chooser chooser, EngineMetrics metrics) {
    this.source = source;
    this.defaults = defaults;
    this.chooser = chooser;
    this.metrics = metrics;
  }

  @Override
  public List<String> names() throws IOException {
    return source.names();
  }

  @Override
  public Optional<ExportInfo> describe(String name) throws IOException {
    synchronized (this) {
      Slot slot = slots.get(name);
      if (slot != null && slot.export != null) {
        return Optional.of(slot.export.info());
      }
    }
    return source.describe(name).map(d -> info(d, chooser.choose(name, defaults).growthRoom()));
  }

  private static ExportInfo info(ExportDescription d, boolean growthRoom) {
    return new ExportInfo(d.name(), ExportStack.advertisedSize(d.capabilities(), d.size(), growthRoom),
        d.capabilities(), d.blockSize());
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
    StackSpec spec = chooser.choose(name, defaults);
    Optional<ExportBase> base = source.open(name, spec);
    if (base.isEmpty()) {
      return null;
    }
    var device = base.get().device();
    ExportInfo info = info(new ExportDescription(name, device.size(), device.blockSize(), device.capabilities()),
        spec.growthRoom());
    ExportStack stack = ExportStack.build(name, base.get(), spec);
    LOG.fine(() -> "opened export " + name);
    ServedExport export = new ServedExport(info, stack, metrics.volume(name));
    export.meters().attach(stack::figures);
    return export;
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
}
