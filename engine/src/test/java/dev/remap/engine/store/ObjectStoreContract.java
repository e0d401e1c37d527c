package dev.remap.engine.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.store.StoreMetrics.Operation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link ObjectStore} contract, run against every implementation: a subclass says how to open
 * a fresh, empty store and how many backend requests its listing and batch delete take.
 */
abstract class ObjectStoreContract {

  protected ObjectStore store;

  /** A new store that holds no objects yet. */
  protected abstract ObjectStore openStore() throws IOException;

  /** Backend requests one list of this many keys takes. */
  protected abstract long listRequestsFor(int keys);

  /** Backend requests one deleteAll of this many keys takes. */
  protected abstract long deleteRequestsFor(int keys);

  @BeforeEach
  void openFreshStore() throws IOException {
    store = openStore();
  }

  @AfterEach
  void closeStore() throws IOException {
    store.close();
  }

  @Test
  void roundTrip() throws IOException {
    byte[] data = bytes(1000, 1);
    store.put("vol/seg/0001", ByteBuffer.wrap(data));

    assertThat(store.get("vol/seg/0001")).isEqualTo(data);
    ObjectInfo info = store.stat("vol/seg/0001").orElseThrow();
    assertThat(info.key()).isEqualTo("vol/seg/0001");
    assertThat(info.size()).isEqualTo(1000);
    assertThat(info.lastModified()).isAfter(java.time.Instant.now().minusSeconds(3600));
  }

  @Test
  void putReadsFromPositionToLimitAndLeavesTheBufferAlone() throws IOException {
    ByteBuffer data = ByteBuffer.wrap("xxhello world!yy".getBytes(UTF_8));
    data.position(2).limit(14);
    store.put("slice", data);

    assertThat(data.position()).isEqualTo(2);
    assertThat(data.limit()).isEqualTo(14);
    assertThat(new String(store.get("slice"), UTF_8)).isEqualTo("hello world!");
  }

  @Test
  void aDirectBufferReusedAfterPutLeavesTheObjectAsItWas() throws IOException {
    // The uploader writes segment after segment from one direct buffer.
    ByteBuffer reused = ByteBuffer.allocateDirect(3000);
    reused.put(bytes(3000, 21)).flip();
    assertThat(store.putIfAbsentLazily("vol/reused/0001", reused)).isTrue();
    reused.clear();
    reused.put(bytes(3000, 22)).flip();
    store.put("vol/reused/0002", reused);

    assertThat(store.get("vol/reused/0001")).isEqualTo(bytes(3000, 21));
    assertThat(store.get("vol/reused/0002")).isEqualTo(bytes(3000, 22));
  }

  @Test
  void emptyObject() throws IOException {
    store.put("empty", ByteBuffer.allocate(0));

    assertThat(store.get("empty")).isEmpty();
    assertThat(store.stat("empty").orElseThrow().size()).isZero();
    assertThat(store.read("empty", 0, ByteBuffer.allocate(10))).isZero();
  }

  @Test
  void rangedReadsAtTheEdges() throws IOException {
    byte[] data = bytes(1000, 2);
    store.put("ranged", ByteBuffer.wrap(data));

    assertThat(readAt("ranged", 0, 10)).isEqualTo(Arrays.copyOfRange(data, 0, 10));
    assertThat(readAt("ranged", 500, 100)).isEqualTo(Arrays.copyOfRange(data, 500, 600));
    assertThat(readAt("ranged", 990, 100)).isEqualTo(Arrays.copyOfRange(data, 990, 1000));
    assertThat(readAt("ranged", 0, 1000)).isEqualTo(data);
    assertThat(readAt("ranged", 999, 1)).containsExactly(data[999]);
    assertThat(readAt("ranged", 1000, 10)).isEmpty();
    assertThat(readAt("ranged", 5000, 10)).isEmpty();

    ByteBuffer direct = ByteBuffer.allocateDirect(64);
    direct.position(4);
    assertThat(store.read("ranged", 100, direct)).isEqualTo(60);
    assertThat(direct.position()).isEqualTo(64);
    byte[] got = new byte[60];
    direct.position(4);
    direct.get(got);
    assertThat(got).isEqualTo(Arrays.copyOfRange(data, 100, 160));

    assertThat(store.read("ranged", 0, ByteBuffer.allocate(0))).isZero();
    assertThatThrownBy(() -> store.read("ranged", -1, ByteBuffer.allocate(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void missingObject() throws IOException {
    store.put("present", ByteBuffer.wrap(bytes(10, 3)));

    assertThatThrownBy(() -> store.get("absent/key"))
        .isInstanceOfSatisfying(NoSuchObjectException.class, e -> assertThat(e.key()).isEqualTo("absent/key"))
        .hasMessageContaining("absent/key");
    assertThatThrownBy(() -> store.read("absent/key", 0, ByteBuffer.allocate(10)))
        .isInstanceOf(NoSuchObjectException.class).hasMessageContaining("absent/key");
    assertThat(store.stat("absent/key")).isEmpty();
    assertThat(store.metrics().of(Operation.GET).failures()).isZero();
  }

  @Test
  void putReplacesTheWholeObject() throws IOException {
    store.put("meta/volume", ByteBuffer.wrap(bytes(1000, 4)));
    byte[] smaller = bytes(10, 5);
    store.put("meta/volume", ByteBuffer.wrap(smaller));

    assertThat(store.get("meta/volume")).isEqualTo(smaller);
    assertThat(store.stat("meta/volume").orElseThrow().size()).isEqualTo(10);
    assertThat(readAt("meta/volume", 0, 100)).isEqualTo(smaller);
  }

  @Test
  void putIfAbsentCreatesOnlyOnce() throws IOException {
    byte[] first = "first".getBytes(UTF_8);

    assertThat(store.putIfAbsent("lease", ByteBuffer.wrap(first))).isTrue();
    assertThat(store.putIfAbsent("lease", ByteBuffer.wrap("second".getBytes(UTF_8)))).isFalse();
    assertThat(store.get("lease")).isEqualTo(first);

    store.delete("lease");
    assertThat(store.putIfAbsent("lease", ByteBuffer.wrap("third".getBytes(UTF_8)))).isTrue();
    assertThat(new String(store.get("lease"), UTF_8)).isEqualTo("third");
  }

  @Test
  void concurrentPutIfAbsentHasExactlyOneWinner() throws Exception {
    int threads = 6;
    CountDownLatch go = new CountDownLatch(1);
    List<Callable<Boolean>> tasks = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      byte[] mine = ("writer-" + i).getBytes(UTF_8);
      tasks.add(() -> {
        go.await();
        return store.putIfAbsent("claimed", ByteBuffer.wrap(mine));
      });
    }
    List<Boolean> results = runConcurrently(tasks, go);

    assertThat(results.stream().filter(b -> b).count()).isEqualTo(1);
    int winner = results.indexOf(true);
    assertThat(new String(store.get("claimed"), UTF_8)).isEqualTo("writer-" + winner);
  }

  @Test
  void putIfAbsentLazilyCreatesOnlyOnceAndIsVisibleAtOnce() throws IOException {
    byte[] first = bytes(3000, 7);
    assertThat(store.putIfAbsentLazily("vol/lazy/0001", ByteBuffer.wrap(first))).isTrue();
    assertThat(store.putIfAbsentLazily("vol/lazy/0001", ByteBuffer.wrap(bytes(10, 8)))).isFalse();
    assertThat(store.putIfAbsent("vol/lazy/0001", ByteBuffer.wrap(bytes(10, 9)))).isFalse();

    // Before any sync, every reader sees the whole object: laziness is about crashes only.
    assertThat(store.get("vol/lazy/0001")).isEqualTo(first);
    assertThat(store.stat("vol/lazy/0001").orElseThrow().size()).isEqualTo(3000);
    assertThat(store.list("vol/lazy/")).extracting(ObjectInfo::key).containsExactly("vol/lazy/0001");
  }

  @Test
  void syncLazyKeepsWhatItSyncsAndSkipsWhatIsMissingOrWrittenEagerly() throws IOException {
    byte[] lazy = bytes(5000, 11);
    byte[] eager = bytes(700, 12);
    store.putIfAbsentLazily("vol/a/lazy", ByteBuffer.wrap(lazy));
    store.putIfAbsentLazily("vol/b/deleted", ByteBuffer.wrap(bytes(10, 13)));
    store.delete("vol/b/deleted");
    store.put("vol/a/eager", ByteBuffer.wrap(eager));

    store.syncLazy(List.of("vol/a/lazy", "vol/b/deleted", "vol/a/eager", "vol/never-written"));
    store.syncLazy(List.of("vol/a/lazy"));

    assertThat(store.get("vol/a/lazy")).isEqualTo(lazy);
    assertThat(store.get("vol/a/eager")).isEqualTo(eager);
    assertThat(store.stat("vol/b/deleted")).isEmpty();
    assertThat(store.stat("vol/never-written")).isEmpty();
  }

  @Test
  void concurrentPutIfAbsentLazilyHasExactlyOneWinner() throws Exception {
    int racers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < racers; i++) {
        byte[] data = bytes(4096, 100 + i);
        results.add(pool.submit(() -> {
          start.await();
          return store.putIfAbsentLazily("race/lazy", ByteBuffer.wrap(data));
        }));
      }
      start.countDown();
      int winners = 0;
      for (Future<Boolean> result : results) {
        winners += result.get() ? 1 : 0;
      }
      assertThat(winners).isEqualTo(1);
      assertThat(store.get("race/lazy")).hasSize(4096);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void listByPrefixIsSorted() throws IOException {
    for (String key : List.of("seg/0003", "seg/0001", "meta/volume", "seg/0002", "seg-x/1", "segment", "a@b/c_d.e")) {
      store.put(key, ByteBuffer.wrap(key.getBytes(UTF_8)));
    }

    assertThat(keys(store.list("seg/"))).containsExactly("seg/0001", "seg/0002", "seg/0003");
    assertThat(keys(store.list("seg"))).containsExactly("seg-x/1", "seg/0001", "seg/0002", "seg/0003", "segment");
    assertThat(keys(store.list("seg/000"))).containsExactly("seg/0001", "seg/0002", "seg/0003");
    assertThat(keys(store.list("")))
        .containsExactly("a@b/c_d.e", "meta/volume", "seg-x/1", "seg/0001", "seg/0002", "seg/0003", "segment");
    assertThat(keys(store.list("nothing/"))).isEmpty();
    assertThat(keys(store.list("seg/0001"))).containsExactly("seg/0001");
    assertThat(store.list("meta/")).singleElement().satisfies(info -> assertThat(info.size()).isEqualTo(11));
  }

  @Test
  void listFollowsPagesAndDeleteAllBatches() throws Exception {
    int count = 1100;
    List<String> keys = IntStream.range(0, count).mapToObj(i -> String.format("many/k%04d", i)).toList();
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      int first = t;
      tasks.add(() -> {
        for (int i = first; i < count; i += 8) {
          store.put(keys.get(i), ByteBuffer.wrap(new byte[] {(byte) i}));
        }
        return null;
      });
    }
    runConcurrently(tasks, null);
    store.put("other", ByteBuffer.wrap(new byte[1]));

    long listsBefore = store.metrics().requests(Operation.LIST);
    assertThat(keys(store.list("many/"))).containsExactlyElementsOf(keys);
    assertThat(store.metrics().requests(Operation.LIST) - listsBefore).isEqualTo(listRequestsFor(count));

    long deletesBefore = store.metrics().requests(Operation.DELETE);
    store.deleteAll(keys);
    assertThat(store.metrics().requests(Operation.DELETE) - deletesBefore).isEqualTo(deleteRequestsFor(count));
    assertThat(keys(store.list(""))).containsExactly("other");
  }

  @Test
  void deleteIsIdempotent() throws IOException {
    store.delete("never/there");
    store.put("doomed", ByteBuffer.wrap(bytes(5, 6)));
    store.delete("doomed");
    store.delete("doomed");

    assertThat(store.stat("doomed")).isEmpty();
    assertThatThrownBy(() -> store.get("doomed")).isInstanceOf(NoSuchObjectException.class);
  }

  @Test
  void deleteAllDeletesWhatExistsAndChecksKeysFirst() throws IOException {
    List<String> keys = List.of("d/1", "d/2", "d/3", "e/4", "f");
    for (String key : keys) {
      store.put(key, ByteBuffer.wrap(key.getBytes(UTF_8)));
    }
    store.put("kept", ByteBuffer.wrap(new byte[1]));

    assertThatThrownBy(() -> store.deleteAll(List.of("d/1", "bad key")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad key");
    assertThat(store.stat("d/1")).isPresent();

    List<String> withMissing = new ArrayList<>(keys);
    withMissing.add("not/there");
    store.deleteAll(withMissing);
    store.deleteAll(List.of());
    assertThat(keys(store.list(""))).containsExactly("kept");
  }

  @Test
  void badKeysAreRejectedBeforeTheStoreIsTouched() {
    long before = store.metrics().totalRequests();
    for (String bad : List.of("", "/abs", "trailing/", "a//b", "..", "a/../b", "./a", "a/.", "with space", "back\\slash",
        "tilde~", "ümlaut", "q?x", "percent%2F", "new\nline", "x".repeat(256), "a/" + "b".repeat(1023))) {
      ByteBuffer data = ByteBuffer.wrap(new byte[1]);
      List<ThrowingCall> calls = List.of(
          () -> store.put(bad, data), () -> store.putIfAbsent(bad, data), () -> store.get(bad),
          () -> store.read(bad, 0, ByteBuffer.allocate(1)), () -> store.stat(bad), () -> store.delete(bad),
          () -> store.deleteAll(List.of(bad)));
      for (ThrowingCall call : calls) {
        assertThatThrownBy(call::run).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("'" + bad + "'");
      }
    }
    for (String badPrefix : List.of("/", "/a", "a//", "../", "a/../", "sp ace")) {
      assertThatThrownBy(() -> store.list(badPrefix)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + badPrefix + "'");
    }
    assertThat(store.metrics().totalRequests()).isEqualTo(before);
  }

  @Test
  void concurrentPutsOfDifferentKeys() throws Exception {
    int threads = 8;
    int perThread = 20;
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      tasks.add(() -> {
        for (int i = 0; i < perThread; i++) {
          store.put("c/t" + thread + "/o" + i, ByteBuffer.wrap(bytes(4096 + i, thread * 1000 + i)));
        }
        return null;
      });
    }
    runConcurrently(tasks, null);

    assertThat(store.list("c/")).hasSize(threads * perThread);
    for (int t = 0; t < threads; t++) {
      for (int i = 0; i < perThread; i++) {
        assertThat(store.get("c/t" + t + "/o" + i)).isEqualTo(bytes(4096 + i, t * 1000 + i));
      }
    }
  }

  @Test
  void largeObjectRoundTrip() throws IOException {
    int size = 32 << 20;
    byte[] data = bytes(size, 7);
    store.put("large/segment", ByteBuffer.wrap(data));

    assertThat(store.stat("large/segment").orElseThrow().size()).isEqualTo(size);
    assertThat(Arrays.equals(store.get("large/segment"), data)).isTrue();
    ByteBuffer tail = ByteBuffer.allocate(1 << 20);
    assertThat(store.read("large/segment", size - (512 << 10), tail)).isEqualTo(512 << 10);
    assertThat(Arrays.equals(tail.array(), 0, 512 << 10, data, size - (512 << 10), size)).isTrue();
  }

  @Test
  void metricsCountRequestsAndBytes() throws IOException {
    StoreMetrics before = store.metrics();
    store.put("m/1", ByteBuffer.wrap(bytes(300, 8)));
    store.putIfAbsent("m/2", ByteBuffer.wrap(bytes(200, 9)));
    store.putIfAbsent("m/2", ByteBuffer.wrap(bytes(999, 9)));
    store.get("m/1");
    store.read("m/2", 50, ByteBuffer.allocate(100));
    store.stat("m/1");
    store.list("m/");
    store.delete("m/1");
    StoreMetrics after = store.metrics();

    assertThat(after.requests(Operation.PUT) - before.requests(Operation.PUT)).isEqualTo(3);
    assertThat(after.bytes(Operation.PUT) - before.bytes(Operation.PUT)).isEqualTo(500);
    assertThat(after.requests(Operation.GET) - before.requests(Operation.GET)).isEqualTo(2);
    assertThat(after.bytes(Operation.GET) - before.bytes(Operation.GET)).isEqualTo(400);
    assertThat(after.requests(Operation.HEAD) - before.requests(Operation.HEAD)).isEqualTo(1);
    assertThat(after.requests(Operation.LIST) - before.requests(Operation.LIST)).isEqualTo(1);
    assertThat(after.requests(Operation.DELETE) - before.requests(Operation.DELETE)).isEqualTo(1);
    assertThat(after.byOperation().values()).allSatisfy(c -> assertThat(c.failures()).isZero());
  }

  @Test
  void checkPassesAndDescribeNamesTheStore() throws IOException {
    store.check();

    assertThat(store.describe()).isNotBlank();
    assertThat(store.toString()).isEqualTo(store.describe());
  }

  /** Reads up to length bytes at offset and returns exactly what was read. */
  protected byte[] readAt(String key, long offset, int length) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    int n = store.read(key, offset, buffer);
    assertThat(buffer.position()).isEqualTo(n);
    return Arrays.copyOf(buffer.array(), n);
  }

  protected static byte[] bytes(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  protected static List<String> keys(List<ObjectInfo> infos) {
    return infos.stream().map(ObjectInfo::key).toList();
  }

  /** Runs the tasks on their own threads (releasing go, if given, once all are submitted). */
  protected static <T> List<T> runConcurrently(List<Callable<T>> tasks, CountDownLatch go) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (Callable<T> task : tasks) {
        futures.add(pool.submit(task));
      }
      if (go != null) {
        go.countDown();
      }
      List<T> results = new ArrayList<>();
      for (Future<T> future : futures) {
        results.add(future.get());
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  @FunctionalInterface
  interface ThrowingCall {
    void run() throws Exception;
  }
}
