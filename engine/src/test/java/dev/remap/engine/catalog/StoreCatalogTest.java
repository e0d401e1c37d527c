package dev.remap.engine.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.core.CleaningPolicy;
import dev.remap.testkit.Await;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.SpaceReport;
import dev.remap.engine.volume.Usage;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeException;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog as the operator uses it: a real volume served by a real manager on a file store,
 * read through a catalog opened from the store's URI, as a second process would.
 */
class StoreCatalogTest {

  private static final int BLOCK = 4096;

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;
  private StoreCatalog catalog;

  @BeforeEach
  void open() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    // Short lease and cleaner periods, so the owner publishes its usage and space quickly.
    VolumeOptions.Cleaning cleaning = new VolumeOptions.Cleaning(true, CleaningPolicy.Settings.defaults(),
        Duration.ofMillis(100), 1L << 30, Duration.ofMillis(100), Duration.ZERO, Duration.ZERO);
    volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal"))
        .withSegments(256 << 10, Duration.ofMillis(20), 4)
        .withLease(Duration.ofMillis(300), Duration.ofSeconds(10))
        .withCleaning(cleaning));
    catalog = StoreCatalog.open("file://" + tmp.resolve("store"));
  }

  @AfterEach
  void close() throws Exception {
    catalog.close();
    volumes.stopCollecting();
    store.close();
  }

  @Test
  void readsWhatTheOwnerPublishedAndLeavesTheStoreAsItWas() throws Exception {
    volumes.create("disk", 8L << 20, BLOCK, 64 << 10);
    assertThat(catalog.usage("disk")).as("never served").isEmpty();
    assertThat(catalog.space("disk")).as("never served").isEmpty();

    Usage counted = new Usage(10, 4, 40960, 16384, 7, 3, 0, 0);
    AtomicReference<Usage> layers = new AtomicReference<>(Usage.ZERO);
    try (Volume volume = volumes.open("disk")) {
      volume.countUsage(layers::get);
      ByteBuffer data = ByteBuffer.allocate(1 << 20);
      Arrays.fill(data.array(), (byte) 7);
      volume.write(0, data, false);
      volume.drain(Duration.ofSeconds(30));
      layers.set(counted);
      Await.until("usage and space published", Duration.ofSeconds(20), () -> counted.equals(catalog.usage("disk").orElse(null))
          && catalog.space("disk").orElse(SpaceReport.UNKNOWN).liveBytes() == 1 << 20);
    }

    Map<String, String> before = contents(tmp.resolve("store"));
    assertThat(catalog.usage("disk")).as("kept in the released lease").contains(counted);
    SpaceReport space = catalog.space("disk").orElseThrow();
    assertThat(space.measured()).isTrue();
    assertThat(space.liveBytes()).isEqualTo(1 << 20);
    assertThat(contents(tmp.resolve("store"))).as("reading took no lease and wrote nothing").isEqualTo(before);
    assertThat(catalog.describe()).isEqualTo(store.describe());
  }

  @Test
  void aMissingVolumeIsNamed() {
    assertThatThrownBy(() -> catalog.usage("nowhere")).isInstanceOf(VolumeException.class)
        .hasMessageContaining("volume nowhere does not exist");
    assertThatThrownBy(() -> catalog.space("nowhere")).isInstanceOf(VolumeException.class)
        .hasMessageContaining("volume nowhere does not exist");
  }

  @Test
  void itsStoreRefusesEveryWriteBeforeTouchingTheStore() throws Exception {
    store.put("kept", ByteBuffer.wrap("old".getBytes(StandardCharsets.UTF_8)));
    ReadOnlyStore readOnly = new ReadOnlyStore(store);
    ByteBuffer data = ByteBuffer.wrap("new".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> readOnly.put("kept", data)).isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("is read-only").hasMessageContaining("kept");
    assertThatThrownBy(() -> readOnly.putIfAbsent("fresh", data)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> readOnly.delete("kept")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> readOnly.deleteAll(List.of("kept"))).isInstanceOf(UnsupportedOperationException.class);
    assertThat(new String(readOnly.get("kept"), StandardCharsets.UTF_8)).isEqualTo("old");
    assertThat(store.stat("fresh")).isEmpty();
  }

  /** Nothing that could write comes out of the catalog: its public methods take and give values only. */
  @Test
  void onlyValuesComeOut() {
    Pattern engineType = Pattern.compile("dev\\.remap\\.engine\\.[\\w.$]+");
    List<String> values = List.of(Usage.class.getName(), SpaceReport.class.getName());
    for (Method m : StoreCatalog.class.getDeclaredMethods()) {
      if (!Modifier.isPublic(m.getModifiers())) {
        continue;
      }
      Matcher types = engineType.matcher(m.toGenericString());
      while (types.find()) {
        String type = types.group();
        assertThat(type.startsWith(StoreCatalog.class.getPackageName() + ".") || values.contains(type))
            .as("%s in %s", type, m.toGenericString()).isTrue();
      }
    }
    assertThat(StoreCatalog.class.getConstructors()).as("built by open(uri) only").isEmpty();
  }

  /** Every file of the store folder and its bytes, to compare before and after. */
  private static Map<String, String> contents(Path root) throws Exception {
    Map<String, String> all = new TreeMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        all.put(root.relativize(p).toString(), Arrays.toString(Files.readAllBytes(p)));
      }
    }
    return all;
  }
}
