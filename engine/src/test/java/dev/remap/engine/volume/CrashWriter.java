package dev.remap.engine.volume;

import dev.remap.engine.store.FileObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The child process of {@link CrashTest}: writes rounds of stamped blocks to a volume and prints
 * "FLUSHED g" after the flush that ends round g returned, until it is killed.
 */
public final class CrashWriter {

  static final int BLOCK = 4096;

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
    VolumeOptions options = VolumeOptions.defaults(journal)
        .withJournal(8 << 20, 1 << 20)
        .withSegments(128 << 10, Duration.ofMillis(10), 4);
    VolumeManager volumes = new VolumeManager(FileObjectStore.open(store), options);
    try (Volume volume = volumes.open("crash")) {
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
