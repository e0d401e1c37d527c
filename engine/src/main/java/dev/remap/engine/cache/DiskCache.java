package dev.remap.engine.cache;

import dev.remap.engine.core.EvictionPolicy;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ReadChannels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The local-disk tier: blocks of store objects kept as files on the node, checked by the
 * transfer worker before it goes to the store and filled on a miss (seed 001). Store objects
 * never change, so a cached block is valid for as long as it exists: no invalidation, and the
 * cache survives a restart (its index is rebuilt from the folder).
 *
 * <p><b>A hit</b> costs one pread on a block file kept open ({@link ReadChannels}), no lock
 * waited for: which blocks are here is a concurrent set, and the hit is told to the eviction
 * policy only when its lock is free at that moment (a busy policy loses some recency, as
 * concurrent caches commonly accept, rather than queueing every reader on one lock).
 *
 * <p><b>A miss</b> fetches the whole block from the store once however many readers want it at the
 * same time ({@link BlockFills}: the first fetches, the others wait for its bytes), answers from
 * memory, and leaves writing the block file to a background thread, so a cold read waits for
 * the store and not for the local disk; the block is served from memory until its file is in.
 *
 * <p>Locking: {@code lock} guards the policy and keeps {@code present} equal to its keys (both
 * change together under it); files are read and written outside it. A block evicted while someone
 * reads it stays readable through the open file; one evicted before it is opened is fetched again.
 */
public final class DiskCache implements ObjectReader, AutoCloseable {

  /** Open block files at most: a descriptor each; all of a 2 GiB tier of 256 KiB blocks. */
  private static final int OPEN_FILES = 8192;
  /** Digests remembered at most (one per store object read; segments are 8 MiB and more). */
  private static final int NAMES = 1 << 16;

  private final ObjectStore store;
  private final Path dir;
  private final int blockSize;
  private final ReentrantLock lock = new ReentrantLock();
  private final EvictionPolicy<String> policy;
  private final Set<String> present = ConcurrentHashMap.newKeySet();
  private final ReadChannels files = new ReadChannels(OPEN_FILES, name -> true);
  private final Map<String, String> digests = new ConcurrentHashMap<>();
  private final BlockFills fills;
  private final TierCounters counters = new TierCounters();

  public DiskCache(ObjectStore store, Path dir, long capacityBytes, int blockSize) throws IOException {
    this.store = store;
    this.dir = dir;
    this.blockSize = blockSize;
    this.policy = new EvictionPolicy<>(capacityBytes, 0.8);
    this.fills = new BlockFills(this::writeBlock);
    Files.createDirectories(dir);
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path file : entries) {
        String name = file.getFileName().toString();
        if (name.endsWith(".tmp")) {
          Files.deleteIfExists(file);
        } else {
          admit(name, Files.size(file));
        }
      }
    }
  }

  public TierCounters.Snapshot counters() {
    lock.lock();
    try {
      return new TierCounters.Snapshot("disk", counters.hits.get(), counters.misses.get(), counters.evictions.get(),
          policy.usedBytes(), policy.capacity());
    } finally {
      lock.unlock();
    }
  }

  /**
   * A reader of this tier that also counts its own hits and misses: one volume's share of a tier
   * that every volume of a server reads through, so that each volume's metrics tell its hits
   * from its neighbours'. Size and evictions stay the tier's ({@link #counters()}).
   */
  public Counted counted() {
    return new Counted();
  }

  /** See {@link #counted()}. */
  public final class Counted implements ObjectReader {
    private final TierCounters own = new TierCounters();

    private Counted() {}

    @Override
    public void readFully(String key, long offset, ByteBuffer dst) throws IOException {
      read(key, offset, dst, own, false);
    }

    @Override
    public boolean readIfLocal(String key, long offset, ByteBuffer dst) throws IOException {
      return read(key, offset, dst, own, true);
    }

    /** This reader's hits and misses; no size: the tier is shared. */
    public TierCounters.Snapshot counters() {
      return new TierCounters.Snapshot("disk", own.hits.get(), own.misses.get(), 0, 0, 0);
    }
  }

  @Override
  public void readFully(String key, long offset, ByteBuffer dst) throws IOException {
    read(key, offset, dst, null, false);
  }

  /** Reads if every block is here (a file, or fetched and being written); false, nothing fetched, if not. */
  @Override
  public boolean readIfLocal(String key, long offset, ByteBuffer dst) throws IOException {
    return read(key, offset, dst, null, true);
  }

  /** Block files written in the background are finished or dropped; open files are closed. */
  @Override
  public void close() {
    fills.close();
    files.close();
  }

  /**
   * Reads through the tier, counting hits and misses in the tier's counters and in also (if
   * given). With onlyHere, no block is fetched: false (dst's position unchanged, its bytes
   * unspecified) as soon as one is neither a file nor fetched already.
   */
  private boolean read(String key, long offset, ByteBuffer dst, TierCounters also, boolean onlyHere)
      throws IOException {
    String prefix = digest(key);
    ByteBuffer into = dst.duplicate();
    long at = offset;
    while (into.hasRemaining()) {
      long block = at / blockSize;
      int within = (int) (at - block * blockSize);
      ByteBuffer part = into.slice();
      part.limit(Math.min(part.remaining(), blockSize - within));
      String name = prefix + "-" + block;
      int n = onlyHere ? readIfHere(name, within, part, also) : readBlock(key, name, block, within, part, also);
      if (n < 0) {
        return false;
      }
      if (n == 0) {
        throw new IOException("object " + key + " ends before offset " + at + ": the store is damaged");
      }
      into.position(into.position() + n);
      at += n;
    }
    dst.position(into.position());
    return true;
  }

  /** Copies from one block if it is here (its file, or fetched already); -1 if it is not. */
  private int readIfHere(String name, int within, ByteBuffer part, TierCounters also) throws IOException {
    int n;
    if (present.contains(name)) {
      touch(name);
      try {
        n = files.read(name, dir.resolve(name), within, part);
      } catch (NoSuchFileException evictedMeanwhile) {
        return -1;
      }
    } else {
      ByteBuffer fetched = fills.ready(name);
      if (fetched == null) {
        return -1;
      }
      n = copy(fetched.duplicate(), within, part);
    }
    count(counters.hits, also == null ? null : also.hits);
    return n;
  }

  /** Copies from one cached block (fetching it on a miss); returns bytes copied. */
  private int readBlock(String key, String name, long block, int within, ByteBuffer part, TierCounters also)
      throws IOException {
    ByteBuffer fill = null;
    boolean[] fetched = {false};
    while (fill == null) {
      if (present.contains(name)) {
        touch(name);
        try {
          int n = files.read(name, dir.resolve(name), within, part);
          count(counters.hits, also == null ? null : also.hits);
          return n;
        } catch (NoSuchFileException evictedMeanwhile) {
          // Fetched again below.
        }
      }
      // A fill that finished between the check above and here left no fetch in flight but its
      // file: read that (null sends the loop back) rather than the store a second time, which
      // readers of a block's two halves under load did (ShareReadCacheTest counts the store's reads).
      fill = fills.fetch(name, () -> {
        if (present.contains(name)) {
          return null;
        }
        fetched[0] = true;
        return fetch(key, block);
      });
    }
    // A miss only for the reader that fetches; one served by a fill in flight found it here.
    ByteBuffer whole = fill.duplicate();
    if (fetched[0]) {
      count(counters.misses, also == null ? null : also.misses);
    } else {
      count(counters.hits, also == null ? null : also.hits);
    }
    return copy(whole, within, part);
  }

  /** Copies from a fetched block at within into part; returns the count (0 past its end). */
  private static int copy(ByteBuffer whole, int within, ByteBuffer part) {
    if (within >= whole.limit()) {
      return 0;
    }
    whole.position(within);
    whole.limit(Math.min(whole.limit(), within + part.remaining()));
    int n = whole.remaining();
    part.put(whole);
    return n;
  }

  /** Tells the policy of a hit if its lock is free now (a busy policy loses this bit of recency). */
  private void touch(String name) {
    if (lock.tryLock()) {
      try {
        policy.access(name);
      } finally {
        lock.unlock();
      }
    }
  }

  private ByteBuffer fetch(String key, long block) throws IOException {
    ByteBuffer whole = ByteBuffer.allocate(blockSize);
    store.read(key, block * blockSize, whole);
    return whole.flip();
  }

  private static void count(AtomicLong tier, AtomicLong own) {
    tier.incrementAndGet();
    if (own != null) {
      own.incrementAndGet();
    }
  }

  /** Writes a fetched block as its file (BlockFills' writer, in the background or not). */
  private void writeBlock(String name, ByteBuffer data) throws IOException {
    if (!data.hasRemaining()) {
      return;
    }
    Path tmp = dir.resolve(name + "." + Thread.currentThread().getId() + ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        while (data.hasRemaining()) {
          channel.write(data);
        }
      }
      // Not fsynced on purpose: after a crash a cached block may be lost, never wrong (the rename
      // makes it whole or absent), and the store still has it.
      Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    files.forget(name);
    admit(name, Files.size(dir.resolve(name)));
  }

  private void admit(String name, long size) throws IOException {
    if (size == 0) {
      Files.deleteIfExists(dir.resolve(name));
      return;
    }
    List<String> evicted;
    lock.lock();
    try {
      evicted = policy.add(name, size);
      present.add(name);
      present.removeAll(evicted);
    } finally {
      lock.unlock();
    }
    for (String victim : evicted) {
      counters.evictions.incrementAndGet();
      Files.deleteIfExists(dir.resolve(victim));
      files.forget(victim);
    }
  }

  /** The file name prefix of an object's blocks: a digest of its key (keys hold slashes). */
  private String digest(String key) {
    String known = digests.get(key);
    if (known != null) {
      return known;
    }
    if (digests.size() >= NAMES) {
      digests.clear(); // old segments' names: recomputed when read again
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      String prefix = HexFormat.of().formatHex(digest, 0, 20);
      digests.put(key, prefix);
      return prefix;
    } catch (NoSuchAlgorithmException e) {
      throw new UncheckedIOException(new IOException("SHA-256 is not available", e));
    }
  }

  /** Waits until every block fetched so far is in its file (or given up): tests, and before a restart. */
  public void awaitFills() throws InterruptedException {
    fills.awaitIdle();
  }
}
