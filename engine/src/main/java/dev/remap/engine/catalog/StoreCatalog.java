package dev.remap.engine.catalog;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.volume.SpaceReport;
import dev.remap.engine.volume.Usage;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * The volumes of one store as a reader that never serves nor changes them sees them: what each
 * volume has served and how much of the store it takes, as its owner last published them in its
 * lease. It takes no lease, starts no thread, and writes nothing: its store refuses writes
 * ({@link ReadOnlyStore}). Only values come out of it, never a store or a volume.
 *
 * <p>Threads: every method may be called from any number of threads at once (the store and the
 * reads it makes are thread-safe; the catalog keeps no state of its own).
 */
public final class StoreCatalog implements AutoCloseable {

  private final ObjectStore store;
  /** Used for its lease reads only, and never handed out: it is the engine's one reader of leases. */
  private final VolumeManager volumes;

  private StoreCatalog(ObjectStore store) {
    this.store = new ReadOnlyStore(store);
    // A manager needs a journal folder, which only serving a volume uses: this one is never
    // created, so a read path that began to need local files would fail instead of leaving some.
    Path unused = Path.of(System.getProperty("java.io.tmpdir"), "remap-catalog-" + UUID.randomUUID());
    this.volumes = new VolumeManager(this.store, VolumeOptions.defaults(unused));
  }

  /**
   * The catalog of the store a URI names ({@code file:///path} or {@code s3://bucket/prefix?...}),
   * with S3 credentials from the AWS default chain (or the URI's profile). Opening an S3 store does
   * not contact it: a store that is down fails the reads, not this.
   *
   * @throws IllegalArgumentException if the URI is not valid, naming the part that is wrong
   */
  public static StoreCatalog open(String uri) throws IOException {
    return new StoreCatalog(ObjectStores.open(uri));
  }

  /** The store's URI, without credentials: safe to log and show. */
  public String describe() {
    return store.describe();
  }

  /**
   * What the volume has served, across every process that owned it, as its owners last published
   * it (every few seconds while it is served); empty when nobody has served it yet.
   *
   * @throws dev.remap.engine.volume.VolumeException if there is no such volume
   */
  public Optional<Usage> usage(String volume) throws IOException {
    return volumes.usage(volume);
  }

  /**
   * How much of the store the volume takes and whether its writes lack space, as its owner last
   * published it; empty when nobody has served it yet.
   *
   * @throws dev.remap.engine.volume.VolumeException if there is no such volume
   */
  public Optional<SpaceReport> space(String volume) throws IOException {
    return volumes.space(volume);
  }

  @Override
  public void close() throws IOException {
    store.close();
  }
}
