package dev.remap.engine.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Predicate;

/**
 * Open read channels of immutable objects of a {@link FileObjectStore}, so that reading a data
 * segment costs one pread instead of open + pread + close (every read that misses the caches above
 * the store used to open and close the segment file).
 *
 * <p><b>Why a cache inside the store</b>, not an {@code openForReading(key)} handle the volume's
 * reader keeps: reads reach the store through the read caches and forwarding stores, which would
 * all have to pass such a handle on; the cache here serves them all and the S3 store needs none.
 *
 * <p><b>Which objects.</b> Only keys {@code cacheable} accepts: objects never replaced in place.
 * A put always writes a new file and renames it over the key, so an open channel keeps reading
 * the whole version it opened; what must not happen is reading that version after this store
 * replaced or deleted the key. So the store calls {@link #forget} after every put, create and
 * delete of a key, after the file system change; an open that raced with it is not kept (the
 * {@code changes} count tells). A change made by another process is not seen: hence only keys that
 * are immutable by the store layout (data segments), which another process replaces only after
 * taking the volume from this one. The local-disk tier keeps its block files open with one too
 * (every block file is written whole and renamed into place, and forgotten when it is evicted).
 *
 * <p><b>Bound and closing.</b> At most {@code capacity} channels stay open, least recently used
 * evicted first. A channel is closed only once no reader holds it (each read takes a lease on it and
 * gives it back), on eviction, forget or {@link #close}. Positional reads of one channel from many
 * threads are safe (pread); a reader interrupted during a read closes the channel under the
 * others, who then read again, once, on a fresh one.
 *
 * <p><b>Locking.</b> One monitor guards the map, the counts and the flags; no I/O is done holding
 * it except closing channels nobody holds, which does not block.
 */
public final class ReadChannels implements AutoCloseable {

  /**
   * Data segments, "segments/ID/SEQ.seg" and "imports/ID/N.seg", and the journal files segments
   * link to, "segments/ID/SEQ.dat" (see volume.StoreLayout): never replaced.
   */
  static final Predicate<String> SEGMENTS = key -> key.endsWith(".seg") || key.endsWith(".dat");

  /** Enough for the segments of several fragmented volumes of a few GiB; each costs one descriptor. */
  static final int DEFAULT_CAPACITY = 512;

  private final int capacity;
  private final Predicate<String> cacheable;
  // Access order: the first entry is the least recently used.
  private final LinkedHashMap<String, Lease> open = new LinkedHashMap<>(64, 0.75f, true);
  private long changes;
  private boolean closed;

  public ReadChannels(int capacity, Predicate<String> cacheable) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
    }
    this.capacity = capacity;
    this.cacheable = cacheable;
  }

  /** One reader's hold on a channel; {@link #close} gives it back. */
  private final class Lease implements AutoCloseable {
    private final String key;
    private final FileChannel channel;
    private final boolean cached;
    private int readers;
    private boolean retired;

    private Lease(String key, FileChannel channel, boolean cached) {
      this.key = key;
      this.channel = channel;
      this.cached = cached;
    }

    /** Stops handing this channel out (it failed, e.g. closed by another reader's interrupt). */
    private void retire() {
      synchronized (ReadChannels.this) {
        open.remove(key, this);
        retired = true;
      }
    }

    @Override
    public void close() throws IOException {
      if (!cached) {
        channel.close();
        return;
      }
      boolean last;
      synchronized (ReadChannels.this) {
        readers--;
        last = retired && readers == 0;
      }
      if (last) {
        channel.close();
      }
    }
  }

  /**
   * A channel on path, for reading key: a cached one if there is, else a new one (kept if the key
   * is cacheable). Throws what FileChannel.open throws (NoSuchFileException for a missing object).
   */
  private Lease acquire(String key, Path path) throws IOException {
    boolean keep = cacheable.test(key);
    long seen;
    synchronized (this) {
      Lease lease = keep && !closed ? open.get(key) : null;
      if (lease != null) {
        lease.readers++;
        return lease;
      }
      seen = changes;
    }
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    if (!keep) {
      return new Lease(key, channel, false);
    }
    List<Lease> evicted = new ArrayList<>();
    Lease lease;
    synchronized (this) {
      Lease other = closed ? null : open.get(key);
      if (other != null) {
        other.readers++;
        lease = other;
      } else if (closed || changes != seen) {
        // Closed, or a key changed while we opened: this file may be the version just replaced.
        lease = new Lease(key, channel, false);
      } else {
        lease = new Lease(key, channel, true);
        lease.readers = 1;
        open.put(key, lease);
        Iterator<Lease> oldest = open.values().iterator();
        while (open.size() > capacity) {
          Lease old = oldest.next();
          oldest.remove();
          old.retired = true;
          if (old.readers == 0) {
            evicted.add(old);
          }
        }
      }
    }
    if (lease.channel != channel) {
      channel.close(); // another reader opened and kept the key first
    }
    closeAll(evicted);
    return lease;
  }

  /**
   * Reads from offset of the object into dst until dst is full or the object ends; returns the
   * count. Throws what FileChannel.open throws for a missing object.
   */
  public int read(String key, Path path, long offset, ByteBuffer dst) throws IOException {
    int start = dst.position();
    for (int attempt = 1; ; attempt++) {
      Lease lease = acquire(key, path);
      try (lease) {
        int read = 0;
        while (dst.hasRemaining()) {
          int n = lease.channel.read(dst, offset + read);
          if (n < 0) {
            break;
          }
          read += n;
        }
        return read;
      } catch (ClosedChannelException e) {
        // Only an interrupt closes a channel someone holds: this thread's (give up, as an
        // unshared channel would), or another reader's on the shared one (read again, once).
        lease.retire();
        if (!lease.cached || attempt > 1 || e instanceof ClosedByInterruptException
            || Thread.currentThread().isInterrupted()) {
          throw e;
        }
        dst.position(start);
      }
    }
  }

  /** Drops the channel of key after a put, create or delete of it (call after the change). */
  public void forget(String key) {
    Lease dropped;
    synchronized (this) {
      changes++;
      dropped = open.remove(key);
      if (dropped == null) {
        return;
      }
      dropped.retired = true;
      if (dropped.readers > 0) {
        return; // the last reader closes it
      }
    }
    closeAll(List.of(dropped));
  }

  /** How many channels are kept open now (for tests and metrics). */
  synchronized int size() {
    return open.size();
  }

  /** Closes every channel nobody reads; the ones being read close when their reader is done. */
  @Override
  public void close() {
    List<Lease> idle = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Lease lease : open.values()) {
        lease.retired = true;
        if (lease.readers == 0) {
          idle.add(lease);
        }
      }
      open.clear();
    }
    closeAll(idle);
  }

  private static void closeAll(List<Lease> leases) {
    for (Lease lease : leases) {
      try {
        lease.channel.close();
      } catch (IOException e) {
        // A read-only descriptor has nothing to flush: a failed close loses nothing.
      }
    }
  }
}
