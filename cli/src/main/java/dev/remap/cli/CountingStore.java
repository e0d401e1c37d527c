package dev.remap.cli;

import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.StoreMetrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * An ObjectStore that tells a listener how many bytes were written under one key prefix (the
 * data objects of an export or an import), so a copy done by the engine's SnapshotTransfer can
 * report progress without the engine knowing about progress. Every call is passed on unchanged.
 */
final class CountingStore implements ObjectStore {

  private final ObjectStore next;
  private final String prefix;
  private final LongConsumer written;

  CountingStore(ObjectStore next, String prefix, LongConsumer written) {
    this.next = next;
    this.prefix = prefix;
    this.written = written;
  }

  @Override
  public void put(String key, ByteBuffer data) throws IOException {
    int bytes = data.remaining();
    next.put(key, data);
    count(key, bytes);
  }

  @Override
  public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
    int bytes = data.remaining();
    boolean created = next.putIfAbsent(key, data);
    if (created) {
      count(key, bytes);
    }
    return created;
  }

  private void count(String key, int bytes) {
    if (key.startsWith(prefix)) {
      written.accept(bytes);
    }
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
  public List<ObjectInfo> list(String keyPrefix) throws IOException {
    return next.list(keyPrefix);
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
  public String describe() {
    return next.describe();
  }

  /** The store underneath is closed by whoever opened it. */
  @Override
  public void close() {
  }
}
