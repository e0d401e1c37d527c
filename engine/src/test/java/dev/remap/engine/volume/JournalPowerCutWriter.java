package dev.remap.engine.volume;

import static dev.remap.engine.volume.CleanerCrashWriter.BLOCK;
import static dev.remap.engine.volume.CleanerCrashWriter.stamp;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ForwardingObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child process of {@link JournalPowerCutTest}: one phase, then "READY" or "FLUSHED" and a wait
 * to be killed. Blocks are stamped with their round as in {@link CleanerCrashWriter}.
 */
public final class JournalPowerCutWriter {

  private JournalPowerCutWriter() {}

  public static void main(String[] args) throws Exception {
    Path journal = Path.of(args[1]);
    switch (args[2]) {
      // Block 0 flushed in round 1 and rewritten in round 2 (not flushed) before the upload that
      // covers round 1 decides what to pack: the first segment upload is held until then.
      case "hide-flushed-write" -> {
        GatedStore store = new GatedStore(FileObjectStore.open(Path.of(args[0])));
        Volume volume = open(store, journal, Duration.ofHours(1));
        write(volume, 64, 104, 1); // a segment's worth: its upload starts, and waits at the gate
        store.awaitFirstSegment();
        write(volume, 0, 1, 1);
        volume.flush();
        write(volume, 1, 40, 1); // with block 0, the next segment's worth
        write(volume, 0, 1, 2);
        store.openGate();
        store.awaitSecondSegment();
        System.out.println("READY");
      }
      // Round 1 flushed, round 2 uploaded but never flushed.
      case "upload-unflushed" -> {
        Volume volume = open(FileObjectStore.open(Path.of(args[0])), journal, Duration.ofMillis(10));
        write(volume, 0, 16, 1);
        volume.flush();
        write(volume, 16, 32, 2);
        volume.drain(Duration.ofSeconds(30));
        System.out.println("READY");
      }
      // Round 3 flushed and kept in the journal only: no upload before the crash.
      case "flush-after-reopen" -> {
        Volume volume = open(FileObjectStore.open(Path.of(args[0])), journal, Duration.ofHours(1));
        write(volume, 32, 48, 3);
        volume.flush();
        System.out.println("FLUSHED");
      }
      default -> throw new IllegalArgumentException("unknown phase " + args[2]);
    }
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }

  private static Volume open(ObjectStore store, Path journal, Duration uploadDelay) throws IOException {
    return new VolumeManager(store, JournalPowerCutTest.options(journal, uploadDelay)).open(JournalPowerCutTest.VOLUME);
  }

  private static void write(Volume volume, int from, int to, int round) throws Exception {
    for (int i = from; i < to; i++) {
      volume.write((long) i * BLOCK, stamp(i, round), false);
    }
  }

  /** A store whose first segment upload waits for the gate to open and whose third never ends. */
  private static final class GatedStore extends ForwardingObjectStore {
    private final AtomicInteger segments = new AtomicInteger();
    private final CountDownLatch firstArrived = new CountDownLatch(1);
    private final CountDownLatch gate = new CountDownLatch(1);
    private final CountDownLatch secondDone = new CountDownLatch(1);

    GatedStore(ObjectStore next) {
      super(next);
    }

    void awaitFirstSegment() throws InterruptedException {
      await(firstArrived, "the first segment upload");
    }

    void openGate() {
      gate.countDown();
    }

    void awaitSecondSegment() throws InterruptedException {
      await(secondDone, "the second segment upload");
    }

    private static void await(CountDownLatch latch, String what) throws InterruptedException {
      if (!latch.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException(what + " did not come");
      }
    }

    @Override
    public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
      if (!key.startsWith("segments/")) {
        return next.putIfAbsent(key, data);
      }
      int n = segments.incrementAndGet();
      try {
        if (n == 1) {
          firstArrived.countDown();
          gate.await();
        } else if (n > 2) {
          new CountDownLatch(1).await();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted at the gate", e);
      }
      boolean created = next.putIfAbsent(key, data);
      if (n == 2) {
        secondDone.countDown();
      }
      return created;
    }
  }
}
