package dev.remap.engine.volume;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The child process of {@link LazyRetirementPowerCutTest}: 64 KiB flushed and synced by a drain,
 * then 3 MiB never flushed, uploaded to segments no barrier synced, and the journal holding them
 * retired all the same (no FLUSH covered them); prints "RETIRED journalBytes markerBefore
 * markerAfter". Then a 4 KiB write and a FLUSH, which covers the 3 MiB too; prints "FLUSHED" and
 * waits for the power cut.
 */
public final class LazyRetirementWriter {

  static final String VOLUME = "lazy-retired";
  static final int BLOCK = 4096;
  static final long UNFLUSHED_AT = 1 << 20;
  static final int UNFLUSHED = 3 << 20;
  static final long LAST_AT = 8 << 20;

  private LazyRetirementWriter() {}

  /** 1 MiB journal files, uploads of 64 KiB at once, no barrier by age, no cleaning. */
  static VolumeOptions options(Path journal) {
    return VolumeOptions.defaults(journal)
        .withJournal(16 << 20, 1 << 20)
        .withSegments(64 << 10, Duration.ofMillis(10), 1000)
        .withCleaning(VolumeOptions.Cleaning.defaults().off())
        .withSyncDelay(Duration.ofHours(1));
  }

  /** length bytes of n: a reader tells which write a block holds. */
  static ByteBuffer filled(int n, int length) {
    byte[] b = new byte[length];
    java.util.Arrays.fill(b, (byte) n);
    return ByteBuffer.wrap(b);
  }

  public static void main(String[] args) throws Exception {
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
    ObjectStore store = FileObjectStore.open(Path.of(args[0]));
    VolumeManager volumes = new VolumeManager(store, options(Path.of(args[1])));
    VolumeMeta meta = volumes.create(VOLUME, 16L << 20, BLOCK, 64 << 10);
    Volume volume = volumes.open(VOLUME);
    volume.write(0, filled(1, 64 << 10), false);
    volume.flush();
    volume.drain(Duration.ofSeconds(30)); // a barrier: every FLUSH so far is covered
    long before = marker(store, meta);
    for (int at = 0; at < UNFLUSHED; at += 64 << 10) {
      volume.write(UNFLUSHED_AT + at, filled(2, 64 << 10), false);
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while ((volume.stats().uploadBacklogBytes() > 0 || volume.stats().journalBytes() >= 1 << 20)
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    System.out.println("RETIRED " + volume.stats().journalBytes() + " " + before + " " + marker(store, meta));
    volume.write(LAST_AT, filled(3, BLOCK), false);
    volume.flush();
    System.out.println("FLUSHED");
    Thread.sleep(Long.MAX_VALUE);
  }

  private static long marker(ObjectStore store, VolumeMeta meta) throws java.io.IOException {
    return SegmentWriter.decodeMarker(store.get(StoreLayout.synced(meta.id())), "marker");
  }
}
