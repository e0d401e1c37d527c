package dev.remap.engine.volume;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The child process of {@link LazySegmentPowerCutTest}: writes rounds of 4 KiB and larger writes
 * (up to 256 KiB) at random places of a small volume whose segments are written without fsync and
 * synced often, some with FUA, each round ending with a FLUSH, until the power is cut under it.
 * Prints "FUA g i" when write i of round g, sent with FUA, returned, and "FLUSHED g" when the
 * flush that ends round g returned.
 */
public final class LazySegmentPowerCutWriter {

  static final String VOLUME = "lazycut";
  static final int BLOCK = 4096;
  static final int BLOCKS = 2048;
  private static final int MAX_RUN = 64;

  private LazySegmentPowerCutWriter() {}

  /** One write: blocks [first, first + count) of round round, FUA or not. */
  record Write(int first, int count, boolean fua) {}

  /**
   * Small segments and journal files, so that many segments wait for each sync and many journal
   * files could be retired meanwhile (a retirement that ignored the sync would lose flushed writes
   * at the next cut); a sync every second unless a checkpoint (every 50 segments) comes first; no
   * cleaning (PowerCutTest cleans).
   */
  static VolumeOptions options(Path journal) {
    return VolumeOptions.defaults(journal)
        .withJournal(16 << 20, 256 << 10)
        .withSegments(64 << 10, Duration.ofMillis(20), 50)
        .withCleaning(VolumeOptions.Cleaning.defaults().off())
        .withSyncDelay(Duration.ofSeconds(1));
  }

  /** The writes of round g: 1 to 24, most of one block, some of 2 to 64 blocks, one in eight with FUA. */
  static List<Write> writesOf(int round) {
    Random random = new Random(round * 0x9E3779B97F4A7C15L);
    int count = 1 + random.nextInt(24);
    List<Write> writes = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int blocks = random.nextInt(5) < 3 ? 1 : 2 + random.nextInt(MAX_RUN - 1);
      writes.add(new Write(random.nextInt(BLOCKS - blocks + 1), blocks, random.nextInt(8) == 0));
    }
    return writes;
  }

  /** Block index of round g: every long holds (g << 32 | index), so a torn or misplaced block shows. */
  static ByteBuffer stamps(int first, int count, int round) {
    ByteBuffer b = ByteBuffer.allocate(count * BLOCK);
    for (int i = 0; i < count; i++) {
      long value = ((long) round << 32) | (first + i);
      for (int at = 0; at < BLOCK; at += 8) {
        b.putLong(value);
      }
    }
    return b.flip();
  }

  public static void main(String[] args) throws Exception {
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
    ObjectStore store = FileObjectStore.open(Path.of(args[0]), Boolean.parseBoolean(args[3]));
    Volume volume = new VolumeManager(store, options(Path.of(args[1]))).open(VOLUME);
    for (int round = Integer.parseInt(args[2]); ; round++) {
      List<Write> writes = writesOf(round);
      for (int i = 0; i < writes.size(); i++) {
        Write w = writes.get(i);
        volume.write((long) w.first() * BLOCK, stamps(w.first(), w.count(), round), w.fua());
        if (w.fua()) {
          System.out.println("FUA " + round + " " + i);
        }
      }
      volume.flush();
      System.out.println("FLUSHED " + round);
      if (ThreadLocalRandom.current().nextInt(4) == 0) {
        Thread.sleep(ThreadLocalRandom.current().nextInt(30));
      }
    }
  }
}
