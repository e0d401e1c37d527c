package dev.remap.engine.volume;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The child process of {@link BarrierSyncPowerCutTest}: one flushed 4 KiB write at block 0, then
 * in one batch 64 KiB elsewhere and a newer write over block 0, never flushed. The upload takes
 * the flushed write and the 64 KiB (a whole segment's worth) and leaves the newer one for later,
 * though block 0 already maps to it; the journal holds all three, only the first synced. Prints
 * "FLUSHED" after the flush, and "BARRIER backlog" once a barrier made that segment durable (the
 * durable marker exists), backlog being the bytes still waiting for upload; then waits for the
 * power cut.
 */
public final class BarrierSyncWriter {

  static final String VOLUME = "barrier";
  static final int BLOCK = 4096;

  private BarrierSyncWriter() {}

  /** Uploads only when 64 KiB wait (never by age), a barrier 300 ms after a segment, no cleaning. */
  static VolumeOptions options(Path journal) {
    return VolumeOptions.defaults(journal)
        .withJournal(16 << 20, 1 << 20)
        .withSegments(64 << 10, Duration.ofHours(1), 1000)
        .withCleaning(VolumeOptions.Cleaning.defaults().off())
        .withSyncDelay(Duration.ofMillis(300));
  }

  /** The 4 KiB block of write n: every byte n, so that a reader tells which write it holds. */
  static ByteBuffer block(int n) {
    byte[] b = new byte[BLOCK];
    java.util.Arrays.fill(b, (byte) n);
    return ByteBuffer.wrap(b);
  }

  private static ByteBuffer filler() {
    byte[] b = new byte[64 << 10];
    java.util.Arrays.fill(b, (byte) 3);
    return ByteBuffer.wrap(b);
  }

  public static void main(String[] args) throws Exception {
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
    ObjectStore store = FileObjectStore.open(Path.of(args[0]));
    VolumeManager volumes = new VolumeManager(store, options(Path.of(args[1])));
    VolumeMeta meta = volumes.create(VOLUME, 16L << 20, BLOCK, 64 << 10);
    Volume volume = volumes.open(VOLUME);
    volume.write(0, block(1), false);
    volume.flush();
    System.out.println("FLUSHED");
    volume.writeAll(new long[] {1 << 20, 0}, new ByteBuffer[] {filler(), block(2)}, 2);
    while (store.stat(StoreLayout.synced(meta.id())).isEmpty()) {
      Thread.sleep(5);
    }
    System.out.println("BARRIER " + volume.stats().uploadBacklogBytes());
    Thread.sleep(Long.MAX_VALUE);
  }
}
