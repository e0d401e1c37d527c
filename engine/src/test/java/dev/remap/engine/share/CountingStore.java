package dev.remap.engine.share;

import dev.remap.engine.store.ForwardingObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** A store that counts the bytes written under each top-level space and the reads per key prefix. */
final class CountingStore extends ForwardingObjectStore {

  private final ConcurrentHashMap<String, AtomicLong> written = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicLong> reads = new ConcurrentHashMap<>();

  CountingStore(ObjectStore next) {
    super(next);
  }

  @Override
  public void put(String key, ByteBuffer data) throws IOException {
    int length = data.remaining();
    super.put(key, data);
    count(written, key, length);
  }

  @Override
  public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
    int length = data.remaining();
    boolean created = super.putIfAbsent(key, data);
    if (created) {
      count(written, key, length);
    }
    return created;
  }

  @Override
  public int read(String key, long offset, ByteBuffer dst) throws IOException {
    count(reads, key, 1);
    return super.read(key, offset, dst);
  }

  /** Bytes written under keys starting with prefix. */
  long written(String prefix) {
    return written.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToLong(e -> e.getValue().get()).sum();
  }

  /** Ranged reads of keys starting with prefix. */
  long reads(String prefix) {
    return reads.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToLong(e -> e.getValue().get()).sum();
  }

  void reset() {
    written.clear();
    reads.clear();
  }

  private static void count(ConcurrentHashMap<String, AtomicLong> map, String key, long amount) {
    map.computeIfAbsent(key, k -> new AtomicLong()).addAndGet(amount);
  }
}
