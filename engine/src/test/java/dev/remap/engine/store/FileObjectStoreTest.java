package dev.remap.engine.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileObjectStoreTest extends ObjectStoreContract {

  @TempDir
  Path temp;

  @Override
  protected ObjectStore openStore() throws IOException {
    return ObjectStores.open("file://" + temp.resolve("store"));
  }

  @Override
  protected long listRequestsFor(int keys) {
    return 1;
  }

  @Override
  protected long deleteRequestsFor(int keys) {
    return keys;
  }

  @Test
  void openedFromAFileUriAndCreatesTheFolder() throws IOException {
    Path deep = temp.resolve("a/b/c");
    try (ObjectStore opened = ObjectStores.open("file://" + deep)) {
      assertThat(opened).isInstanceOf(FileObjectStore.class);
      assertThat(deep).isDirectory();
      assertThat(opened.describe()).isEqualTo("file://" + deep);
      opened.check();
    }
  }

  @Test
  void objectsAreFilesUnderTheRoot() throws IOException {
    store.put("vol-1/seg/0007", ByteBuffer.wrap("payload".getBytes(UTF_8)));

    assertThat(temp.resolve("store/vol-1/seg/0007")).hasContent("payload");
  }

  @Test
  void readersNeverSeeAHalfWrittenObject() throws Exception {
    int size = 1 << 20;
    byte[] a = new byte[size];
    byte[] b = new byte[size];
    Arrays.fill(a, (byte) 'A');
    Arrays.fill(b, (byte) 'B');
    store.put("meta/volume", ByteBuffer.wrap(a));
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger reads = new AtomicInteger();
    List<Callable<Void>> tasks = new ArrayList<>();
    tasks.add(() -> {
      try {
        for (int i = 0; i < 150; i++) {
          store.put("meta/volume", ByteBuffer.wrap(i % 2 == 0 ? b : a));
        }
      } finally {
        writing.set(false);
      }
      return null;
    });
    for (int r = 0; r < 2; r++) {
      tasks.add(() -> {
        ByteBuffer buffer = ByteBuffer.allocate(size + 1);
        while (writing.get()) {
          assertWhole(store.get("meta/volume"));
          buffer.clear();
          int n = store.read("meta/volume", 0, buffer);
          assertWhole(Arrays.copyOf(buffer.array(), n));
          reads.incrementAndGet();
        }
        return null;
      });
    }
    runConcurrently(tasks, null);

    assertThat(reads.get()).isPositive();
  }

  private static void assertWhole(byte[] seen) {
    assertThat(seen).hasSize(1 << 20);
    byte first = seen[0];
    assertThat(first == 'A' || first == 'B').isTrue();
    for (byte x : seen) {
      if (x != first) {
        throw new AssertionError("a reader saw a mix of two versions");
      }
    }
  }

  @Test
  void dotDotKeysCannotLeaveTheFolder() throws IOException {
    Path outside = temp.resolve("outside");
    Files.writeString(outside, "secret");

    for (String key : List.of("../outside", "x/../../outside", "..", "x/..")) {
      assertThatThrownBy(() -> store.get(key)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(key);
      assertThatThrownBy(() -> store.delete(key)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.put(key, ByteBuffer.wrap(new byte[1]))).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> store.list("../")).isInstanceOf(IllegalArgumentException.class);
    assertThat(outside).hasContent("secret");
  }

  @Test
  void leftoverTemporaryFilesAndForeignFilesAreNotObjects() throws IOException {
    store.put("seg/1", ByteBuffer.wrap(new byte[3]));
    Path root = temp.resolve("store");
    Files.write(root.resolve("seg/.~0123abcd.tmp"), new byte[10]);
    Files.write(root.resolve("seg/with space"), new byte[10]);

    assertThat(keys(store.list(""))).containsExactly("seg/1");
    assertThat(keys(store.list("seg/"))).containsExactly("seg/1");
  }

  @Test
  void aKeyCannotAlsoBeAFolderOfKeys() throws IOException {
    store.put("a", ByteBuffer.wrap(new byte[1]));
    store.put("b/c", ByteBuffer.wrap(new byte[1]));

    assertThatThrownBy(() -> store.put("a/x", ByteBuffer.wrap(new byte[1])))
        .isInstanceOf(IOException.class).hasMessageContaining("a/x").hasMessageContaining("cannot hold both");
    assertThatThrownBy(() -> store.put("b", ByteBuffer.wrap(new byte[1])))
        .isInstanceOf(IOException.class).hasMessageContaining("cannot hold both");
    assertThatThrownBy(() -> store.putIfAbsent("b", ByteBuffer.wrap(new byte[1])))
        .isInstanceOf(IOException.class).hasMessageContaining("cannot hold both");
    assertThat(store.stat("b")).isEmpty();
    assertThat(store.stat("a/x")).isEmpty();
    assertThatThrownBy(() -> store.get("b")).isInstanceOf(NoSuchObjectException.class);
    store.delete("b");
    assertThat(keys(store.list(""))).containsExactly("a", "b/c");
  }

  @Test
  void aMissingFolderIsAClearStoreError() throws IOException {
    Path root = temp.resolve("gone");
    try (ObjectStore gone = ObjectStores.open("file://" + root)) {
      Files.delete(root);
      assertThatThrownBy(gone::check).isInstanceOfSatisfying(StoreException.class,
          e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NO_BUCKET)).hasMessageContaining(root.toString());
    }
  }

  @Test
  void aFullDiskFailsPutsWithNoSpaceLeavesNoTemporaryFileAndKeepsEarlierObjects() throws Exception {
    Assumptions.assumeTrue(SmallDisk.canMount(), "mounting a small filesystem needs root");
    try (SmallDisk disk = SmallDisk.tmpfs(Files.createDirectories(temp.resolve("work")), 1 << 20, 64);
        ObjectStore small = FileObjectStore.open(disk.root().resolve("store"))) {
      small.put("seg/1", ByteBuffer.wrap(new byte[256 << 10]));
      disk.fill();
      ByteBuffer big = ByteBuffer.wrap(new byte[512 << 10]);
      assertThatThrownBy(() -> small.put("seg/2", big)).isInstanceOf(NoSpaceException.class)
          .hasMessageContaining("seg/2").hasMessageContaining(disk.root().toString())
          .cause().hasMessageContaining("No space left on device");
      assertThatThrownBy(() -> small.putIfAbsent("seg/3", big)).isInstanceOf(NoSpaceException.class)
          .hasMessageContaining("seg/3");
      try (Stream<Path> files = Files.list(disk.root().resolve("store/seg"))) {
        assertThat(files.map(f -> f.getFileName().toString())).containsExactly("1");
      }
      assertThat(small.get("seg/1")).hasSize(256 << 10);

      disk.free();
      assertThat(small.putIfAbsent("seg/3", big)).isTrue();
      assertThat(small.list("seg/")).extracting(ObjectInfo::key).containsExactly("seg/1", "seg/3");
    }
  }
}
