package dev.remap.operator.transfer;

import dev.remap.engine.catalog.StoreCatalog;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Remap's own store as the operator reads it: the URI the CSI controller is given with --store,
 * here from REMAP_STORE, with S3 credentials from the usual AWS environment. Opened on first use;
 * absent when not configured, and the features that need it say so in the status. The operator
 * reads it through the engine's read-only catalog only (each volume's usage and space, from its
 * lease): it takes no lease and cannot write (docs/ARCHITECTURE.md, module map).
 */
@ApplicationScoped
public class RemapStore {

  private final Optional<String> uri;
  private StoreCatalog catalog;

  public RemapStore(@ConfigProperty(name = "remap.operator.store") Optional<String> uri) {
    this.uri = uri.filter(u -> !u.isBlank());
  }

  public boolean configured() {
    return uri.isPresent();
  }

  /** The store's catalog; empty when REMAP_STORE is not set. */
  public synchronized Optional<StoreCatalog> catalog() {
    if (uri.isEmpty()) {
      return Optional.empty();
    }
    if (catalog == null) {
      try {
        catalog = StoreCatalog.open(uri.get());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open Remap's store " + uri.get() + ": " + e.getMessage(), e);
      }
    }
    return Optional.of(catalog);
  }

  @PreDestroy
  synchronized void close() {
    if (catalog != null) {
      try {
        catalog.close();
      } catch (Exception e) {
        // shutting down
      }
    }
  }
}
