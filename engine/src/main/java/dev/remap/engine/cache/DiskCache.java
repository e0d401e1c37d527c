package dev.remap.engine.cache;

import dev.remap.engine.core.EvictionPolicy;
import dev.remap.engine.store.ObjectStore;
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
import java.util.concurrent.locks.ReentrantLock;

/**
 * The local-disk tier: blocks of store objects kept as files on the node, checked by the
 * transfer worker before it goes to the store and filled on a miss (seed 001). Store objects
 * never change, so a cached block is valid for as long as it exists: no invalidation, and the
 * cache survives a restart (its index is rebuilt from the folder).
 *
 * <p>Locking: {@code lock} guards the index (the eviction policy) only; files are read and
 * written outside it. A block evicted while someone reads it stays readable through the open
 * file; one evicted before it is opened is simply fetched again.
 */
public final class DiskCache implements ObjectReader {

  private final ObjectStore store;
  private final Path dir;
  private final int blockSize;
  private final ReentrantLock lock = new ReentrantLock();
  private final EvictionPolicy<String> policy;
  private final TierCounters counters = new TierCounters();

  public DiskCache(ObjectStore store, Path dir, long capacityBytes, int blockSize) throws IOException {
    this.store = store;
    this.dir = dir;
    this.blockSize = blockSize;
    this.policy = new EvictionPolicy<>(capacityBytes, 0.8);
    Files.createDirectories(dir);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
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
      read(key, offset, dst, own);
    }

    /** This reader's hits and misses; no size: the tier is shared. */
    public TierCounters.Snapshot counters() {
      return new TierCounters.Snapshot("disk", own.hits.get(), own.misses.get(), 0, 0, 0);
    }
  }

  @Override
  public void readFully(String key, long offset, ByteBuffer dst) throws IOException {
    read(key, offset, dst, null);
  }

  /** Reads through the tier, counting hits and misses in the tier's counters and in also (if given). */
  private void read(String key, long offset, ByteBuffer dst, TierCounters also) throws IOException {
    long at = offset;
    while (dst.hasRemaining()) {
      long block = at / blockSize;
      int within = (int) (at - block * blockSize);
      ByteBuffer part = dst.slice();
      part.limit(Math.min(part.remaining(), blockSize - within));
      int n = readBlock(key, block, within, part, also);
      if (n <= 0) {
        throw new IOException("object " + key + " ends before offset " + at + ": the store is damaged");
      }
      dst.position(dst.position() + n);
      at += n;
    }
  }

  /** Copies from one cached block (fetching it on a miss); returns bytes copied. */
  private int readBlock(String key, long block, int within, ByteBuffer part, TierCounters also) throws IOException {
    String name = fileName(key, block);
    boolean cached;
    lock.lock();
    try {
      cached = policy.access(name);
    } finally {
      lock.unlock();
    }
    if (cached) {
      try (FileChannel channel = FileChannel.open(dir.resolve(name), StandardOpenOption.READ)) {
        counters.hits.incrementAndGet();
        if (also != null) {
          also.hits.incrementAndGet();
        }
        int total = 0;
        while (part.hasRemaining()) {
          int n = channel.read(part, within + total);
          if (n < 0) {
            break;
          }
          total += n;
        }
        return total;
      } catch (NoSuchFileException evictedMeanwhile) {
        // Fall through and fetch it again.
      }
    }
    counters.misses.incrementAndGet();
    if (also != null) {
      also.misses.incrementAndGet();
    }
    ByteBuffer whole = ByteBuffer.allocate(blockSize);
    store.read(key, block * blockSize, whole);
    whole.flip();
    store(name, whole.duplicate());
    if (within >= whole.limit()) {
      return 0;
    }
    whole.position(within);
    whole.limit(Math.min(whole.limit(), within + part.remaining()));
    int n = whole.remaining();
    part.put(whole);
    return n;
  }

  private void store(String name, ByteBuffer data) throws IOException {
    if (!data.hasRemaining()) {
      return;
    }
    Path tmp = dir.resolve(name + "." + Thread.currentThread().getId() + ".tmp");
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (data.hasRemaining()) {
        channel.write(data);
      }
    }
    // Not fsynced on purpose: after a crash a cached block may be lost, never wrong (the rename
    // makes it whole or absent), and the store still has it.
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    admit(name, Files.size(dir.resolve(name)));
  }

  private void admit(String name, long size) throws IOException {
    if (size == 0) {
      Files.deleteIfExists(dir.resolve(name));
      return;
    }
    java.util.List<String> evicted;
    lock.lock();
    try {
      evicted = policy.add(name, size);
    } finally {
      lock.unlock();
    }
    for (String victim : evicted) {
      counters.evictions.incrementAndGet();
      Files.deleteIfExists(dir.resolve(victim));
    }
  }

  private static String fileName(String key, long block) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 20) + "-" + block;
    } catch (NoSuchAlgorithmException e) {
      throw new UncheckedIOException(new IOException("SHA-256 is not available", e));
    }
  }
}
