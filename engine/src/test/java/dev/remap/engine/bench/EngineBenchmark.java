package dev.remap.engine.bench;

import dev.remap.engine.core.Sizes;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.store.StoreMetrics;
import dev.remap.engine.store.StoreUri;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import dev.remap.testkit.S3ServerProcess;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

/**
 * The engine's benchmarks (bench/engine.sh runs this; figures go to docs/BENCHMARKS.md):
 * store requests per GiB written to a real S3 server for 4 KiB random and 1 MiB sequential
 * writes, and snapshot and clone time of a 100 GiB volume holding 10 GiB of data.
 * Not a test: it measures and prints; nothing here asserts a time. {@code chunks} as the only
 * argument runs just the chunk-size comparison.
 */
public final class EngineBenchmark {

  public static void main(String[] args) throws Exception {
    Path work = Files.createTempDirectory("remap-bench");
    try {
      run(args, work);
    } finally {
      // The 10G volume and the stores are big: never leave them behind.
      try (var paths = Files.walk(work)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void run(String[] args, Path work) throws Exception {
    if (args.length > 0 && args[0].equals("chunks")) {
      for (int chunk : new int[] {64 << 10, 256 << 10, 1 << 20, 4 << 20}) {
        chunkSize(work, chunk);
      }
      return;
    }
    long written = args.length > 0 ? Sizes.parse(args[0]) : 512L << 20;
    long data = args.length > 1 ? Sizes.parse(args[1]) : 10L << 30;
    System.out.println("| measurement | value |");
    System.out.println("|---|---|");
    try (S3ServerProcess s3 = S3ServerProcess.start(work.resolve("s3"))) {
      s3.createBucket("bench");
      S3Credentials credentials = new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY);
      putsPerGiB("4 KiB random writes", s3, credentials, work, written, 4096, true);
      putsPerGiB("1 MiB sequential writes", s3, credentials, work, written, 1 << 20, false);
    }
    for (int chunk : new int[] {64 << 10, 256 << 10, 1 << 20, 4 << 20}) {
      chunkSize(work, chunk);
    }
    snapshotAndClone(work, data);
  }

  /** 4 KiB random writes and reads through a volume (file store) for one chunk size. */
  private static void chunkSize(Path work, int chunk) throws Exception {
    try (ObjectStore store = FileObjectStore.open(work.resolve("chunk-" + chunk))) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(work.resolve("journal-chunk-" + chunk)));
      long size = 1L << 30;
      volumes.create("v", size, 4096, chunk);
      int count = 50_000;
      byte[] block = new byte[4096];
      Random rng = new Random(3);
      try (Volume volume = volumes.open("v")) {
        // Fill the volume sequentially first so random writes land on mapped chunks.
        byte[] big = new byte[4 << 20];
        for (long at = 0; at < size; at += big.length) {
          volume.write(at, ByteBuffer.wrap(big), false);
        }
        volume.drain(Duration.ofMinutes(10));
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
          volume.write((long) rng.nextInt((int) (size / 4096)) * 4096, ByteBuffer.wrap(block), false);
        }
        volume.flush();
        double writeSeconds = (System.nanoTime() - start) / 1e9;
        volume.drain(Duration.ofMinutes(10));
        start = System.nanoTime();
        ByteBuffer dst = ByteBuffer.allocate(4096);
        for (int i = 0; i < count; i++) {
          dst.clear();
          volume.read((long) rng.nextInt((int) (size / 4096)) * 4096, dst);
        }
        double readSeconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("| chunk %s: 4 KiB random writes / reads, one thread, volume layer (1G, file store) "
            + "| %.0f / %.0f IOPS |%n", Sizes.format(chunk), count / writeSeconds, count / readSeconds);
      }
    }
  }

  private static void putsPerGiB(String label, S3ServerProcess s3, S3Credentials credentials, Path work,
      long total, int size, boolean random) throws Exception {
    String prefix = (random ? "rand" : "seq") + "/";
    try (ObjectStore store = ObjectStores.open(StoreUri.parse(s3.storeUri("bench", prefix)), credentials)) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(work.resolve("journal-" + prefix.charAt(0))));
      long volumeSize = 4L << 30;
      volumes.create("v", volumeSize, 4096, 1 << 20);
      StoreMetrics before = store.metrics();
      byte[] block = new byte[size];
      Random rng = new Random(1);
      long start = System.nanoTime();
      try (Volume volume = volumes.open("v")) {
        for (long done = 0, at = 0; done < total; done += size) {
          rng.nextBytes(block);
          long offset = random ? (long) rng.nextInt((int) (volumeSize / size)) * size : at;
          volume.write(offset, ByteBuffer.wrap(block), false);
          at += size;
        }
        volume.flush();
        volume.drain(Duration.ofMinutes(10));
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      StoreMetrics after = store.metrics();
      long puts = after.requests(StoreMetrics.Operation.PUT) - before.requests(StoreMetrics.Operation.PUT);
      double perGiB = puts / (total / (double) (1L << 30));
      System.out.printf("| %s, %s to S3 (s3proxy): PUTs per GiB written | %.0f (%.1f MiB written per PUT) |%n",
          label, Sizes.format(total), perGiB, total / (double) puts / (1 << 20));
      System.out.printf("| %s: write + flush + upload time | %.1f s (%.0f MiB/s) |%n", label, seconds,
          total / seconds / (1 << 20));
    }
  }

  private static void snapshotAndClone(Path work, long data) throws Exception {
    try (ObjectStore store = FileObjectStore.open(work.resolve("file-store"))) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(work.resolve("journal-big")));
      volumes.create("big", 100L << 30, 4096, 1 << 20);
      byte[] chunk = new byte[4 << 20];
      new Random(2).nextBytes(chunk);
      try (Volume volume = volumes.open("big")) {
        // Spread the data over the whole volume: every tenth MiB... of 100 GiB holds data.
        long stride = (100L << 30) / (data / chunk.length);
        for (long offset = 0; offset + chunk.length <= volume.size() && offset / stride < data / chunk.length; offset += stride) {
          volume.write(offset, ByteBuffer.wrap(chunk), false);
        }
        volume.flush();
        volume.drain(Duration.ofMinutes(30));
        long start = System.nanoTime();
        volumes.snapshot(volume, "s1");
        double snapshot = (System.nanoTime() - start) / 1e6;
        start = System.nanoTime();
        volumes.clone("big", "s1", "big-clone");
        double clone = (System.nanoTime() - start) / 1e6;
        System.out.printf("| snapshot of a 100G volume holding %s (file store, uploads drained) | %.0f ms |%n",
            Sizes.format(data), snapshot);
        System.out.printf("| clone of that snapshot | %.0f ms |%n", clone);
      }
    }
  }
}
