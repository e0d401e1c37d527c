package dev.remap.engine.volume;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a served volume uses local resources. The defaults suit a VM disk on a node: a 1 GiB
 * journal (writers wait when it is full), segments of 8 MiB (each store PUT carries at least
 * that much unless a flush forces a partial one out after uploadDelay), a checkpoint every 64
 * segments so that opening a volume replays at most that many segment headers.
 */
public record VolumeOptions(
    Path journalDir,
    long journalCapacity,
    long journalFileSize,
    int segmentTarget,
    Duration uploadDelay,
    int checkpointEvery) {

  public static final long DEFAULT_JOURNAL_CAPACITY = 1L << 30;
  public static final long DEFAULT_JOURNAL_FILE_SIZE = 64L << 20;
  public static final int DEFAULT_SEGMENT_TARGET = 8 << 20;

  public static VolumeOptions defaults(Path journalDir) {
    return new VolumeOptions(journalDir, DEFAULT_JOURNAL_CAPACITY, DEFAULT_JOURNAL_FILE_SIZE,
        DEFAULT_SEGMENT_TARGET, Duration.ofSeconds(2), 64);
  }

  public VolumeOptions withJournal(long capacity, long fileSize) {
    return new VolumeOptions(journalDir, capacity, fileSize, segmentTarget, uploadDelay, checkpointEvery);
  }

  public VolumeOptions withSegments(int target, Duration delay, int everyForCheckpoint) {
    return new VolumeOptions(journalDir, journalCapacity, journalFileSize, target, delay, everyForCheckpoint);
  }

  /** The largest single journal record; bigger requests are split. */
  int maxRecord() {
    return (int) Math.min(4L << 20, journalFileSize / 2);
  }
}
