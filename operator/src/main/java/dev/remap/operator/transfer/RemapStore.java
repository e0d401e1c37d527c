package dev.remap.operator.transfer;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Remap's own store as the operator reads it (for exports): the URI the CSI controller is given
 * with --store, here from REMAP_STORE, with S3 credentials from the usual AWS environment. Opened
 * on first use; absent when not configured, and the features that need it say so in the status.
 * The operator only reads snapshots through it: it never opens a volume, so it takes no lease.
 */
@ApplicationScoped
public class RemapStore {

  private final Optional<String> uri;
  private ObjectStore store;
  private VolumeManager volumes;

  public RemapStore(@ConfigProperty(name = "remap.operator.store") Optional<String> uri) {
    this.uri = uri.filter(u -> !u.isBlank());
  }

  public boolean configured() {
    return uri.isPresent();
  }

  /** The store's volumes; empty when REMAP_STORE is not set. */
  public synchronized Optional<VolumeManager> volumes() {
    if (uri.isEmpty()) {
      return Optional.empty();
    }
    if (volumes == null) {
      try {
        store = ObjectStores.open(uri.get());
        // A journal folder is part of every manager; reading snapshots never writes to it.
        volumes = new VolumeManager(store, VolumeOptions.defaults(Files.createTempDirectory("remap-operator-")));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open Remap's store " + uri.get() + ": " + e.getMessage(), e);
      }
    }
    return Optional.of(volumes);
  }

  @PreDestroy
  synchronized void close() {
    if (store != null) {
      try {
        store.close();
      } catch (Exception e) {
        // shutting down
      }
    }
  }
}
