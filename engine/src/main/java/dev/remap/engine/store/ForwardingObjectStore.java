package dev.remap.engine.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * A store that passes every call on to {@code next}: wrappers (a read-only view, a byte counter,
 * a test's gate) override only what they change.
 */
public abstract class ForwardingObjectStore implements ObjectStore {

  protected final ObjectStore next;

  protected ForwardingObjectStore(ObjectStore next) {
    this.next = next;
  }

  @Override
  public void put(String key, ByteBuffer data) throws IOException {
    next.put(key, data);
  }

  @Override
  public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
    return next.putIfAbsent(key, data);
  }

  @Override
  public int read(String key, long offset, ByteBuffer dst) throws IOException {
    return next.read(key, offset, dst);
  }

  @Override
  public byte[] get(String key) throws IOException {
    return next.get(key);
  }

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    return next.stat(key);
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    return next.list(prefix);
  }

  @Override
  public void delete(String key) throws IOException {
    next.delete(key);
  }

  @Override
  public void deleteAll(Collection<String> keys) throws IOException {
    next.deleteAll(keys);
  }

  @Override
  public void check() throws IOException {
    next.check();
  }

  @Override
  public StoreMetrics metrics() {
    return next.metrics();
  }

  @Override
  public boolean isLocal() {
    return next.isLocal();
  }

  @Override
  public String describe() {
    return next.describe();
  }

  @Override
  public void close() throws IOException {
    next.close();
  }
}
