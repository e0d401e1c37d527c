package dev.remap.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segment files kept open between reads ({@link ReadChannels} in {@link FileObjectStore}): a read
 * must always return the bytes the key holds now, however the channels were cached, evicted or
 * dropped, and the open descriptors must stay bounded.
 */
class ReadChannelsTest {

  @TempDir
  Path temp;

  private static String segment(int n) {
    return String.format("segments/volume-id/%016x.seg", n);
  }

  private static ByteBuffer bytes(int seed, int length) {
    byte[] data = new byte[length];
    new Random(seed).nextBytes(data);
    return ByteBuffer.wrap(data);
  }

  private static ByteBuffer read(ObjectStore store, String key, long offset, int length) throws IOException {
    ByteBuffer dst = ByteBuffer.allocate(length);
    assertThat(store.read(key, offset, dst)).isEqualTo(length);
    return dst.flip();
  }

  private static ByteBuffer slice(ByteBuffer whole, int offset, int length) {
    return whole.duplicate().position(offset).limit(offset + length).slice();
  }

  @Test
  void aSegmentDeletedAndWrittenAgainReadsItsNewBytes() throws IOException {
    try (FileObjectStore store = FileObjectStore.open(temp.resolve("store"))) {
      String key = segment(1);
      assertThat(store.putIfAbsent(key, bytes(1, 8192))).isTrue();
      assertThat(read(store, key, 4096, 100)).isEqualTo(slice(bytes(1, 8192), 4096, 100));

      store.delete(key);
      assertThatThrownBy(() -> read(store, key, 0, 10)).isInstanceOf(NoSuchObjectException.class);
      assertThat(store.putIfAbsent(key, bytes(2, 8192))).isTrue();
      assertThat(read(store, key, 4096, 100)).isEqualTo(slice(bytes(2, 8192), 4096, 100));

      // Replaced in place with put (a segment rewritten after a lost answer): the new bytes too.
      store.put(key, bytes(3, 4096));
      assertThat(read(store, key, 0, 4096)).isEqualTo(bytes(3, 4096));
      store.deleteAll(List.of(key));
      assertThatThrownBy(() -> read(store, key, 0, 10)).isInstanceOf(NoSuchObjectException.class);
      store.put(key, bytes(4, 4096));
      assertThat(read(store, key, 0, 4096)).isEqualTo(bytes(4, 4096));
    }
  }

  @Test
  void anObjectThatIsNotASegmentIsReadFromTheFileItIsNow() throws IOException {
    try (FileObjectStore store = FileObjectStore.open(temp.resolve("store"))) {
      store.put("volumes/a.meta", bytes(1, 100));
      assertThat(read(store, "volumes/a.meta", 0, 100)).isEqualTo(bytes(1, 100));
      // Replaced behind the store's back (as another process would): no stale open file is read.
      Path file = temp.resolve("store/volumes/a.meta");
      Path next = temp.resolve("store/volumes/next");
      Files.write(next, bytes(2, 100).array());
      Files.move(next, file, StandardCopyOption.ATOMIC_MOVE);
      assertThat(read(store, "volumes/a.meta", 0, 100)).isEqualTo(bytes(2, 100));
    }
  }

  @Test
  void readsOfManyMoreSegmentsThanTheBoundAreCorrectAndKeepFewFilesOpen() throws IOException {
    Path root = temp.resolve("store");
    try (FileObjectStore store = FileObjectStore.open(root)) {
      for (int i = 0; i < 40; i++) {
        store.putIfAbsent(segment(i), bytes(i, 4096));
      }
    }
    ReadChannels channels = new ReadChannels(4, ReadChannels.SEGMENTS);
    assertThat(channels.size()).isZero(); // loads the assertion classes before counting descriptors
    long before = openDescriptors();
    Random random = new Random(7);
    for (int round = 0; round < 400; round++) {
      int i = random.nextInt(40);
      int offset = random.nextInt(4000);
      ByteBuffer dst = ByteBuffer.allocate(96);
      assertThat(channels.read(segment(i), root.resolve(segment(i)), offset, dst)).isEqualTo(96);
      assertThat(dst.flip()).isEqualTo(slice(bytes(i, 4096), offset, 96));
      assertThat(channels.size()).isLessThanOrEqualTo(4);
    }
    assertThat(openDescriptors() - before).as("descriptors left open").isLessThanOrEqualTo(4);
    channels.close();
    assertThat(channels.size()).isZero();
    assertThat(openDescriptors()).as("descriptors after close").isLessThanOrEqualTo(before);
  }

  @Test
  void concurrentReadsWhileChannelsAreEvictedAndDroppedNeverFail() throws Exception {
    Path root = temp.resolve("store");
    int segments = 12;
    try (FileObjectStore store = FileObjectStore.open(root)) {
      for (int i = 0; i < segments; i++) {
        store.putIfAbsent(segment(i), bytes(i, 65536));
      }
    }
    // Two channels for twelve segments and eight readers: nearly every read evicts one.
    ReadChannels channels = new ReadChannels(2, ReadChannels.SEGMENTS);
    ExecutorService pool = Executors.newFixedThreadPool(9);
    try {
      List<Future<Integer>> readers = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int seed = t;
        readers.add(pool.submit(() -> {
          Random random = new Random(seed);
          ByteBuffer dst = ByteBuffer.allocate(4096);
          for (int r = 0; r < 3000; r++) {
            int i = random.nextInt(segments);
            int offset = random.nextInt(65536 - 4096);
            dst.clear();
            assertThat(channels.read(segment(i), root.resolve(segment(i)), offset, dst)).isEqualTo(4096);
            assertThat(dst.flip()).isEqualTo(slice(bytes(i, 65536), offset, 4096));
          }
          return 3000;
        }));
      }
      Future<?> forgetter = pool.submit(() -> {
        Random random = new Random(99);
        while (!readers.stream().allMatch(Future::isDone)) {
          channels.forget(segment(random.nextInt(segments)));
        }
        return null;
      });
      int reads = 0;
      for (Future<Integer> reader : readers) {
        reads += reader.get(2, TimeUnit.MINUTES);
      }
      forgetter.get(1, TimeUnit.MINUTES);
      assertThat(reads).isEqualTo(8 * 3000);
    } finally {
      pool.shutdownNow();
      channels.close();
    }
  }

  @Test
  void aReaderInterruptedOnASharedChannelDoesNotBreakTheNextReads() throws Exception {
    Path root = temp.resolve("store");
    try (FileObjectStore store = FileObjectStore.open(root)) {
      store.putIfAbsent(segment(1), bytes(1, 8192));
      assertThat(read(store, segment(1), 0, 10)).isEqualTo(slice(bytes(1, 8192), 0, 10));
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread interrupted = new Thread(() -> {
        Thread.currentThread().interrupt();
        // An interrupted thread's read closes the channel it uses: the shared, kept one.
        try {
          read(store, segment(1), 0, 10);
        } catch (Throwable e) {
          failure.set(e);
        }
      });
      interrupted.start();
      interrupted.join();
      assertThat(failure.get()).isInstanceOf(ClosedByInterruptException.class);
      assertThat(read(store, segment(1), 100, 1000)).isEqualTo(slice(bytes(1, 8192), 100, 1000));
    }
  }

  /** This process's open file descriptors (Linux). */
  private static long openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
