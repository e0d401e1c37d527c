package dev.remap.engine.volume;

import dev.remap.engine.store.FileObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The child process of {@link CrashTest}: opens the volume (printing "OPENING" before and
 * "OPENED ms" after, so that the test can kill it inside the open and its journal replay), then
 * writes rounds of stamped blocks and prints "FLUSHED g" after the flush that ends round g
 * returned, until it is killed.
 */
public final class CrashWriter {

  static final int BLOCK = 4096;

  /**
   * The options of every open of the test's volume, the writer's and the checker's: a replay
   * must read the journal with the file size and sequence bounds it was written with. Journal
   * files are small (256 KiB) so that a kill often leaves several to replay, one of them partly
   * written; segments are small and a checkpoint comes every 4 of them so that opening also
   * replays segment headers after a checkpoint.
   */
  static VolumeOptions options(Path journal) {
    return VolumeOptions.defaults(journal)
        .withJournal(8 << 20, 256 << 10)
        .withSegments(128 << 10, Duration.ofMillis(10), 4);
  }

  /**
   * Whether round writes block index: a quarter of the blocks each round, a different quarter
   * every round, so a block's newest version is often several rounds old and a lost write shows.
   */
  static boolean writes(int round, int index) {
    long mix = index * 0x9E3779B97F4A7C15L + round * 0xC2B2AE3D27D4EB4FL;
    mix ^= mix >>> 29;
    mix *= 0xBF58476D1CE4E5B9L;
    return (mix >>> 60) < 4;
  }

  /** A block of round g at index i: every long holds (g << 32 | i), so a torn block shows. */
  static ByteBuffer stamp(int index, int round) {
    ByteBuffer b = ByteBuffer.allocate(BLOCK);
    long value = ((long) round << 32) | index;
    while (b.hasRemaining()) {
      b.putLong(value);
    }
    return b.flip();
  }

  public static void main(String[] args) throws Exception {
    Path store = Path.of(args[0]);
    Path journal = Path.of(args[1]);
    int blocks = Integer.parseInt(args[2]);
    int firstRound = Integer.parseInt(args[3]);
    VolumeManager volumes = new VolumeManager(FileObjectStore.open(store), options(journal));
    System.out.println("OPENING");
    System.out.flush();
    long start = System.nanoTime();
    try (Volume volume = volumes.open("crash")) {
      System.out.println("OPENED " + (System.nanoTime() - start) / 1_000_000);
      System.out.flush();
      for (int round = firstRound; ; round++) {
        for (int i = 0; i < blocks; i++) {
          // Scatter the order so that segments mix old and new rounds.
          int index = (int) ((i * 7919L) % blocks);
          if (!writes(round, index)) {
            continue;
          }
          volume.write((long) index * BLOCK, stamp(index, round), false);
        }
        volume.flush();
        System.out.println("FLUSHED " + round);
        System.out.flush();
      }
    }
  }
}
