package dev.remap.engine.catalog;

import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.StoreMetrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * A store through which nothing can be written: reads go to the store it wraps, every write
 * (put, putIfAbsent, delete, deleteAll) fails before the store is touched. What makes
 * {@link StoreCatalog} read-only whatever the engine code it calls does.
 */
final class ReadOnlyStore implements ObjectStore {

  private final ObjectStore store;

  ReadOnlyStore(ObjectStore store) {
    this.store = store;
  }

  private UnsupportedOperationException refused(String what, String key) {
    return new UnsupportedOperationException("the store catalog of " + store.describe() + " is read-only: it does not "
        + what + " " + key);
  }

  @Override
  public void put(String key, ByteBuffer data) {
    throw refused("write", key);
  }

  @Override
  public boolean putIfAbsent(String key, ByteBuffer data) {
    throw refused("write", key);
  }

  @Override
  public void delete(String key) {
    throw refused("delete", key);
  }

  @Override
  public void deleteAll(Collection<String> keys) {
    throw refused("delete", keys.size() + " objects");
  }

  @Override
  public int read(String key, long offset, ByteBuffer dst) throws IOException {
    return store.read(key, offset, dst);
  }

  @Override
  public byte[] get(String key) throws IOException {
    return store.get(key);
  }

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    return store.stat(key);
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    return store.list(prefix);
  }

  @Override
  public void check() throws IOException {
    store.check();
  }

  @Override
  public StoreMetrics metrics() {
    return store.metrics();
  }

  @Override
  public String describe() {
    return store.describe();
  }

  @Override
  public void close() throws IOException {
    store.close();
  }
}
