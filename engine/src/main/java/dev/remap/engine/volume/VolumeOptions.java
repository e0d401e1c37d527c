package dev.remap.engine.volume;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a served volume uses local resources. The defaults suit a VM disk on a node: a 1 GiB
 * journal (writers wait when it is full), segments of 8 MiB (each store PUT carries at least
 * that much unless a flush forces a partial one out after uploadDelay), a checkpoint every 64
 * segments so that opening a volume replays at most that many segment headers.
 *
 * <p>{@code syncDelay}: on a store that writes segments without fsync ({@link
 * dev.remap.engine.store.ObjectStore#defersDurability}, the file store), how long a segment may
 * stay not durable before the uploader syncs it (and may retire the journal records a FLUSH
 * covered that it holds; records no FLUSH covered leave the journal without waiting for it); a
 * FLUSH that needs it, a quarter of the journal held by a FLUSH, a checkpoint, a drain or a close
 * sync sooner.
 *
 * <p>{@code nodeId} names this node in the volume leases of the store (default: the host name);
 * an owner renews its lease every {@code leaseTtl}/3 and is presumed dead by others once its lease
 * has not moved for twice {@code leaseTtl}; a process that needs a volume another owns asks for it
 * and waits up to {@code handoverTimeout} (see {@link Ownership}).
 */
public record VolumeOptions(
    Path journalDir,
    long journalCapacity,
    long journalFileSize,
    int segmentTarget,
    Duration uploadDelay,
    int checkpointEvery,
    String nodeId,
    Duration leaseTtl,
    Duration handoverTimeout,
    Cleaning cleaning,
    Duration syncDelay) {

  /**
   * How the owner of a volume keeps its store near the size of its data ({@link SegmentCleaner}):
   * which segments to clean ({@code policy}), how often a volume that was written is looked at
   * ({@code interval}), how many live bytes per second cleaning may copy at most, so that it never
   * starves the clients' own uploads ({@code bytesPerSecond}), and how long after its last write
   * a volume counts as quiet and is cleaned down to the policy's target rather than its busy bound.
   * {@code enabled} false turns cleaning off (the store then grows with every overwrite).
   * A process serving volumes also collects the store's garbage every {@code collectEvery} (zero:
   * only when a cleaner emptied segments), sparing objects younger than {@code collectGrace}.
   */
  public record Cleaning(boolean enabled, dev.remap.engine.core.CleaningPolicy.Settings policy, Duration interval,
      long bytesPerSecond, Duration idleAfter, Duration collectEvery, Duration collectGrace) {

    public static final long DEFAULT_RATE = 32L << 20;

    public Cleaning {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("the cleaning interval must be positive, not " + interval);
      }
      if (bytesPerSecond <= 0) {
        throw new IllegalArgumentException("the cleaning rate must be positive, not " + bytesPerSecond);
      }
      if (idleAfter.isNegative()) {
        throw new IllegalArgumentException("the quiet time before cleaning to target must not be negative");
      }
      if (collectEvery.isNegative() || collectGrace.isNegative()) {
        throw new IllegalArgumentException("the collection interval and grace must not be negative");
      }
    }

    public static Cleaning defaults() {
      return new Cleaning(true, dev.remap.engine.core.CleaningPolicy.Settings.defaults(), Duration.ofSeconds(10),
          DEFAULT_RATE, Duration.ofSeconds(5), Duration.ofMinutes(10), Duration.ofMinutes(5));
    }

    public Cleaning off() {
      return new Cleaning(false, policy, interval, bytesPerSecond, idleAfter, collectEvery, collectGrace);
    }
  }

  public VolumeOptions {
    if (nodeId == null || !nodeId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,252}")) {
      throw new IllegalArgumentException("node id '" + nodeId + "' is invalid: use letters, digits, '.', '_' and '-', "
          + "starting with a letter or digit, at most 253 characters");
    }
    if (syncDelay.isNegative()) {
      throw new IllegalArgumentException("the delay before segments are synced must not be negative, not " + syncDelay);
    }
    if (leaseTtl.toMillis() < 300 || handoverTimeout.isNegative()) {
      throw new IllegalArgumentException("the lease time must be at least 300 ms and the handover timeout positive");
    }
  }

  public static final long DEFAULT_JOURNAL_CAPACITY = 1L << 30;
  public static final long DEFAULT_JOURNAL_FILE_SIZE = 64L << 20;
  public static final int DEFAULT_SEGMENT_TARGET = 8 << 20;

  public static VolumeOptions defaults(Path journalDir) {
    return new VolumeOptions(journalDir, DEFAULT_JOURNAL_CAPACITY, DEFAULT_JOURNAL_FILE_SIZE,
        DEFAULT_SEGMENT_TARGET, Duration.ofSeconds(2), 64, hostName(), Duration.ofSeconds(15), Duration.ofSeconds(60),
        Cleaning.defaults(), Duration.ofSeconds(10));
  }

  /** The host name as a node id, or "localhost" when it has none that could be one. */
  static String hostName() {
    String name = System.getenv("HOSTNAME");
    if (name == null || name.isBlank()) {
      try {
        name = java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.io.IOException e) {
        name = "localhost";
      }
    }
    String cleaned = name.replaceAll("[^A-Za-z0-9._-]", "-");
    return cleaned.isEmpty() || !Character.isLetterOrDigit(cleaned.charAt(0)) ? "localhost" : cleaned;
  }

  public VolumeOptions withNode(String node) {
    return new VolumeOptions(journalDir, journalCapacity, journalFileSize, segmentTarget, uploadDelay, checkpointEvery,
        node, leaseTtl, handoverTimeout, cleaning, syncDelay);
  }

  public VolumeOptions withLease(Duration ttl, Duration handover) {
    return new VolumeOptions(journalDir, journalCapacity, journalFileSize, segmentTarget, uploadDelay, checkpointEvery,
        nodeId, ttl, handover, cleaning, syncDelay);
  }

  public VolumeOptions withJournal(long capacity, long fileSize) {
    return new VolumeOptions(journalDir, capacity, fileSize, segmentTarget, uploadDelay, checkpointEvery,
        nodeId, leaseTtl, handoverTimeout, cleaning, syncDelay);
  }

  public VolumeOptions withSegments(int target, Duration delay, int everyForCheckpoint) {
    return new VolumeOptions(journalDir, journalCapacity, journalFileSize, target, delay, everyForCheckpoint,
        nodeId, leaseTtl, handoverTimeout, cleaning, syncDelay);
  }

  public VolumeOptions withCleaning(Cleaning newCleaning) {
    return new VolumeOptions(journalDir, journalCapacity, journalFileSize, segmentTarget, uploadDelay, checkpointEvery,
        nodeId, leaseTtl, handoverTimeout, newCleaning, syncDelay);
  }

  public VolumeOptions withSyncDelay(Duration delay) {
    return new VolumeOptions(journalDir, journalCapacity, journalFileSize, segmentTarget, uploadDelay, checkpointEvery,
        nodeId, leaseTtl, handoverTimeout, cleaning, delay);
  }

  /** The largest single journal record; bigger requests are split. */
  int maxRecord() {
    return (int) Math.min(4L << 20, journalFileSize / 2);
  }
}
