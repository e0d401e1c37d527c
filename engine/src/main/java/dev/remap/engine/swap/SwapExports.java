package dev.remap.engine.swap;

import dev.remap.engine.block.ForwardingBlockDevice;
import dev.remap.engine.block.PagedDevice;
import dev.remap.engine.export.ExportBase;
import dev.remap.engine.export.ExportDescription;
import dev.remap.engine.export.ExportSource;
import dev.remap.engine.export.StackSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

/**
 * A node's swap disks as exports. A swap disk lives from {@link #create} to {@link #remove} (or
 * the server's end), not from a client's connect to its disconnect: a guest's QEMU that
 * reconnects must find the pages it swapped out. So each stack opened on a disk gets an
 * attachment whose close leaves the disk as it is.
 *
 * <p>Thread-safe: the disks are in a concurrent map; each disk guards itself.
 */
public final class SwapExports implements ExportSource, AutoCloseable {

  private final PagePool pool;
  private final Map<String, SwapDisk> disks = new ConcurrentHashMap<>();

  public SwapExports(PagePool pool) {
    this.pool = pool;
  }

  public PagePool pool() {
    return pool;
  }

  /** Creates a swap disk; see {@link SwapDisk#create} for what it may refuse. */
  public SwapDisk create(SwapSpec spec) throws IOException {
    return create(spec, page -> { });
  }

  /** The same, telling receivedInto of every page a write is received into (tests of page identity). */
  public synchronized SwapDisk create(SwapSpec spec, IntConsumer receivedInto) throws IOException {
    if (disks.containsKey(spec.name())) {
      throw new IllegalArgumentException("swap disk " + spec.name() + " exists already");
    }
    SwapDisk disk = SwapDisk.create(pool, spec, receivedInto);
    disks.put(spec.name(), disk);
    return disk;
  }

  public Optional<SwapDisk> find(String name) {
    return Optional.ofNullable(disks.get(name));
  }

  /** Drops a swap disk and everything it holds; false if there is none. */
  public synchronized boolean remove(String name) throws IOException {
    SwapDisk disk = disks.remove(name);
    if (disk == null) {
      return false;
    }
    disk.close();
    return true;
  }

  @Override
  public List<String> names() {
    return new ArrayList<>(disks.keySet());
  }

  @Override
  public Optional<ExportDescription> describe(String name) {
    return find(name).map(d -> new ExportDescription(name, d.size(), d.blockSize(), d.capabilities()));
  }

  @Override
  public Optional<ExportBase> open(String name, StackSpec stack) {
    return find(name).map(d -> ExportBase.plain(new Attachment(d)));
  }

  @Override
  public synchronized void close() throws IOException {
    for (String name : names()) {
      remove(name);
    }
  }

  /** A stack's handle on a disk: everything passes on, except that closing it keeps the disk. */
  private static final class Attachment extends ForwardingBlockDevice implements PagedDevice {
    private final SwapDisk disk;

    Attachment(SwapDisk disk) {
      super(disk);
      this.disk = disk;
    }

    @Override
    public Incoming receive(long offset, int length) throws IOException {
      return disk.receive(offset, length);
    }

    @Override
    public Outgoing send(long offset, int length) throws IOException {
      return disk.send(offset, length);
    }

    @Override
    public void copied(long bytes) {
      disk.copied(bytes);
    }

    @Override
    public int maxRequest() {
      return disk.maxRequest();
    }

    @Override
    public void close() {
      // The disk outlives its connections: SwapExports#remove drops it.
    }
  }
}
