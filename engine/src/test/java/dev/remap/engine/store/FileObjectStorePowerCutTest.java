package dev.remap.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.testkit.PowerCutMount;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link FileObjectStore}'s durability under a simulated power cut (the powercut FUSE filesystem,
 * {@link PowerCutMount}): an object whose put returned survives, and a put under way at the cut
 * leaves the object as it was or whole, never a part. And first, that the filesystem really
 * drops what was not fsynced, without which the rest would prove nothing.
 */
class FileObjectStorePowerCutTest {

  private static final int CUTS = 12;

  @TempDir Path tmp;

  private Path backing;
  private Path mounted;
  private PowerCutMount mount;

  @BeforeEach
  void folders() throws IOException {
    backing = Files.createDirectories(tmp.resolve("backing"));
    mounted = Files.createDirectories(tmp.resolve("mnt"));
  }

  @AfterEach
  void unmount() {
    if (mount != null) {
      mount.close();
    }
  }

  /**
   * Data not fsynced is gone under either model; a new name whose folder was not fsynced is gone
   * under POSIX's and kept under ext4's when a later fsync (of anything) committed it.
   */
  @ParameterizedTest
  @EnumSource(PowerCutMount.Model.class)
  void whatWasNotSyncedIsGoneAfterACut(PowerCutMount.Model model) throws Exception {
    mount = PowerCutMount.mount(backing, mounted, model);
    Path folder = mounted.resolve("folder");
    Files.createDirectory(folder);
    fsync(mounted);
    write(folder.resolve("synced"), "old", true);
    fsync(folder);
    write(folder.resolve("synced"), "new", false);
    write(folder.resolve("unsynced"), "never synced", false);
    write(folder.resolve("name-unsynced"), "data synced, name not", true);
    Files.createDirectory(mounted.resolve("new-folder"));
    write(mounted.resolve("new-folder").resolve("file"), "in a folder whose entry is not synced", true);
    fsync(mounted.resolve("new-folder"));
    Files.createDirectory(mounted.resolve("after-every-fsync"));
    assertThat(Files.readString(folder.resolve("synced"))).as("reads before the cut see the page cache").isEqualTo("new");

    mount.cut();
    assertThatThrownBy(() -> Files.readString(folder.resolve("synced"))).as("a read after the cut")
        .isInstanceOf(IOException.class);
    remount(model);

    assertThat(Files.readString(folder.resolve("synced"))).isEqualTo("old");
    assertThat(mounted.resolve("after-every-fsync")).as("a folder made after the last fsync").doesNotExist();
    if (model == PowerCutMount.Model.STRICT) {
      assertThat(folder.resolve("unsynced")).doesNotExist();
      assertThat(folder.resolve("name-unsynced")).as("a new file whose folder was not fsynced").doesNotExist();
      assertThat(mounted.resolve("new-folder")).as("a new folder whose parent was not fsynced").doesNotExist();
    } else {
      assertThat(folder.resolve("unsynced")).as("a name a later fsync committed, its data never synced").isEmptyFile();
      assertThat(folder.resolve("name-unsynced")).hasContent("data synced, name not");
      assertThat(mounted.resolve("new-folder").resolve("file")).hasContent("in a folder whose entry is not synced");
    }
    assertThat(backing.resolve("folder").resolve("synced")).as("the backing folder, unmounted").hasContent("old");
  }

  @Test
  void putsThatReturnedSurviveACutAndAPutUnderWayLeavesAllOrNothing() throws Exception {
    mount = PowerCutMount.mount(backing, mounted, PowerCutMount.Model.STRICT);
    Random random = new Random(3);
    int interrupted = 0;
    Map<String, byte[]> durable = new HashMap<>();
    for (int cut = 0; cut < CUTS; cut++) {
      Map<String, byte[]> returned = new ConcurrentHashMap<>();
      AtomicReference<String> underWay = new AtomicReference<>();
      AtomicReference<byte[]> underWayBytes = new AtomicReference<>();
      List<String> failures = new CopyOnWriteArrayList<>();
      Map<String, byte[]> before = Map.copyOf(durable);
      int round = cut;
      Thread writer;
      try (FileObjectStore store = FileObjectStore.open(mounted.resolve("store"))) {
        writer = new Thread(() -> {
          Random bytes = new Random(round);
          // Overwrites of the objects made so far and new ones, put and putIfAbsent, up to 1 MiB each.
          try {
            for (int i = 0; ; i++) {
              String key = "objects/" + (i % 3 == 0 && !before.isEmpty() ? pick(before, i) : "r" + round + "-" + i);
              byte[] data = new byte[1 + bytes.nextInt(1 << 20)];
              bytes.nextBytes(data);
              underWay.set(key);
              underWayBytes.set(data);
              if (i % 2 == 0 || before.containsKey(key)) {
                store.put(key, ByteBuffer.wrap(data));
              } else if (!store.putIfAbsent(key, ByteBuffer.wrap(data))) {
                failures.add("putIfAbsent of the new key " + key + " found it there");
              }
              returned.put(key, data);
            }
          } catch (IOException expected) {
            // The cut: every request fails from then on.
          }
        }, "putter");
        writer.start();
        Thread.sleep(50 + random.nextInt(300));
        mount.cut();
        writer.join();
      }
      String log = mount.log();
      remount(PowerCutMount.Model.STRICT);
      assertThat(failures).as("the putter before cut %d", cut).isEmpty();
      try (FileObjectStore store = FileObjectStore.open(mounted.resolve("store"))) {
        String key = underWay.get();
        assertThat(key).as("a put under way at cut %d", cut).isNotNull();
        for (Map.Entry<String, byte[]> e : returned.entrySet()) {
          if (!e.getKey().equals(key)) {
            assertThat(store.get(e.getKey())).as("%s, whose put returned before cut %d", e.getKey(), cut)
                .isEqualTo(e.getValue());
          }
        }
        // The put under way at the cut (its last step may have completed, unrecorded): what was
        // there before it, or all of its bytes.
        byte[] old = returned.getOrDefault(key, before.get(key));
        Optional<ObjectInfo> found = store.stat(key);
        byte[] got = found.isEmpty() ? null : store.get(key);
        if (got == null) {
          assertThat(old).as("%s, which existed before a put that cut %d interrupted", key, cut).isNull();
        } else {
          assertThat(Arrays.equals(got, underWayBytes.get()) || Arrays.equals(got, old))
              .as("%s, put while cut %d came: its old or its new bytes, whole (%d bytes found, new %d, old %s)", key,
                  cut, got.length, underWayBytes.get().length, old == null ? "none" : old.length)
              .isTrue();
        }
        if (!Arrays.equals(got, underWayBytes.get())) {
          interrupted++;
        }
        List<String> listed = new ArrayList<>();
        for (ObjectInfo info : store.list("objects/")) {
          listed.add(info.key());
          durable.put(info.key(), store.get(info.key()));
        }
        assertThat(listed).as("objects after cut %d", cut).containsAll(returned.keySet()).containsAll(before.keySet());
        System.out.printf("FileObjectStorePowerCutTest cut %d: %d puts returned, %s under way; %s", cut,
            returned.size(), key, log);
      }
    }
    assertThat(interrupted).as("cuts that came before the put under way was durable").isPositive();
  }

  /**
   * Lazily written objects are durable once syncLazy returns, and not before: a cut drops the ones
   * not synced yet (which shows the writes really skip fsync), never the synced ones. The early
   * writeback is off here, or it could have written the others before the cut (next test).
   */
  @ParameterizedTest
  @EnumSource(PowerCutMount.Model.class)
  void lazyPutsSurviveACutOnlyOnceSynced(PowerCutMount.Model model) throws Exception {
    mount = PowerCutMount.mount(backing, mounted, model);
    Map<String, byte[]> synced = new HashMap<>();
    Map<String, byte[]> unsynced = new HashMap<>();
    Random random = new Random(5);
    try (FileObjectStore store = FileObjectStore.open(mounted.resolve("store"), false)) {
      for (int i = 0; i < 6; i++) {
        byte[] data = new byte[1 + random.nextInt(256 << 10)];
        random.nextBytes(data);
        String key = "segments/v" + (i % 2) + "/s" + i;
        assertThat(store.putIfAbsentLazily(key, ByteBuffer.wrap(data))).isTrue();
        synced.put(key, data);
      }
      store.syncLazy(synced.keySet());
      for (int i = 6; i < 9; i++) {
        byte[] data = new byte[1 + random.nextInt(256 << 10)];
        random.nextBytes(data);
        String key = "segments/v0/s" + i;
        store.putIfAbsentLazily(key, ByteBuffer.wrap(data));
        unsynced.put(key, data);
        assertThat(store.get(key)).as("%s before the cut", key).isEqualTo(data);
      }
    }
    mount.cut();
    remount(model);

    try (FileObjectStore store = FileObjectStore.open(mounted.resolve("store"))) {
      for (Map.Entry<String, byte[]> e : synced.entrySet()) {
        assertThat(store.get(e.getKey())).as("%s, synced before the cut", e.getKey()).isEqualTo(e.getValue());
      }
      for (String key : unsynced.keySet()) {
        Optional<ObjectInfo> found = store.stat(key);
        assertThat(found.isEmpty() || !Arrays.equals(store.get(key), unsynced.get(key)))
            .as("%s, written lazily and never synced: the cut must have dropped its name or its data", key)
            .isTrue();
      }
    }
  }

  /**
   * The early writeback writes a lazily put object to the disk without being asked: once it has,
   * a cut keeps the object whole (under the model where any fsync commits the names before it; the
   * folder is left to syncLazy), and a syncLazy afterwards keeps it under both.
   */
  @ParameterizedTest
  @EnumSource(PowerCutMount.Model.class)
  void lazyPutsAreWrittenBackBeforeAnySyncAsks(PowerCutMount.Model model) throws Exception {
    mount = PowerCutMount.mount(backing, mounted, model);
    Random random = new Random(9);
    byte[] first = new byte[3 << 20];
    random.nextBytes(first);
    byte[] second = new byte[1 << 20];
    random.nextBytes(second);
    try (FileObjectStore store = FileObjectStore.open(mounted.resolve("store"))) {
      assertThat(store.putIfAbsentLazily("segments/v0/s1", ByteBuffer.wrap(first))).isTrue();
      awaitWrittenBack(store, 1);
      if (model == PowerCutMount.Model.ORDERED) {
        mount.cut();
        remount(model);
        try (FileObjectStore after = FileObjectStore.open(mounted.resolve("store"))) {
          assertThat(after.get("segments/v0/s1")).as("written back, never synced, then a cut").isEqualTo(first);
        }
      }
    }
    try (FileObjectStore store = FileObjectStore.open(mounted.resolve("store"))) {
      store.putIfAbsentLazily("segments/v0/s1", ByteBuffer.wrap(first));
      store.putIfAbsentLazily("segments/v0/s2", ByteBuffer.wrap(second));
      awaitWrittenBack(store, 1);
      store.syncLazy(List.of("segments/v0/s1", "segments/v0/s2"));
    }
    mount.cut();
    remount(model);
    try (FileObjectStore store = FileObjectStore.open(mounted.resolve("store"))) {
      assertThat(store.get("segments/v0/s1")).isEqualTo(first);
      assertThat(store.get("segments/v0/s2")).isEqualTo(second);
    }
  }

  /** Waits (up to 20 s) until the store's writeback has written count files. */
  private static void awaitWrittenBack(FileObjectStore store, long count) throws InterruptedException {
    assertThat(store.awaitWrittenBack(count, java.time.Duration.ofSeconds(20)))
        .as("the early writeback of %d files", count).isTrue();
  }

  private static String pick(Map<String, byte[]> objects, int i) {
    List<String> keys = new ArrayList<>(objects.keySet());
    keys.sort(null);
    return keys.get(i % keys.size()).substring("objects/".length());
  }

  private void remount(PowerCutMount.Model model) {
    mount.close();
    mount = PowerCutMount.mount(backing, mounted, model);
  }

  private static void write(Path file, String text, boolean sync) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
      if (sync) {
        channel.force(true);
      }
    }
  }

  private static void fsync(Path folder) throws IOException {
    try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
