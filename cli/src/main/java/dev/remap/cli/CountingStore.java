package dev.remap.cli;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ForwardingObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongConsumer;

/**
 * An ObjectStore that tells a listener how many bytes were written under one key prefix (the
 * data objects of an export or an import), so a copy done by the engine's SnapshotTransfer can
 * report progress without the engine knowing about progress. Every call is passed on unchanged.
 */
final class CountingStore extends ForwardingObjectStore {

  private final String prefix;
  private final LongConsumer written;

  CountingStore(ObjectStore next, String prefix, LongConsumer written) {
    super(next);
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

  /** The store underneath is closed by whoever opened it. */
  @Override
  public void close() {
  }
}
