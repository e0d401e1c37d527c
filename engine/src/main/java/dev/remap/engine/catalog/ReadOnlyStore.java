package dev.remap.engine.catalog;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ForwardingObjectStore;
import java.nio.ByteBuffer;
import java.util.Collection;

/**
 * A store through which nothing can be written: reads go to the store it wraps, every write
 * (put, putIfAbsent, delete, deleteAll) fails before the store is touched. What makes
 * {@link StoreCatalog} read-only whatever the engine code it calls does.
 */
final class ReadOnlyStore extends ForwardingObjectStore {

  ReadOnlyStore(ObjectStore store) {
    super(store);
  }

  private UnsupportedOperationException refused(String what, String key) {
    return new UnsupportedOperationException("the store catalog of " + next.describe() + " is read-only: it does not "
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
}
