package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.CleaningPolicy;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a served volume publishes of its space in its lease, as a reader of the store (the
 * operator, {@code remap volume list}) gets it from {@link VolumeManager#space}; and the value's
 * own arithmetic.
 */
class SpaceReportTest {

  private static final int BLOCK = 4096;

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager volumes;

  @BeforeEach
  void open() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    VolumeOptions.Cleaning cleaning = new VolumeOptions.Cleaning(true, CleaningPolicy.Settings.defaults(),
        Duration.ofMillis(100), 1L << 30, Duration.ofMillis(100), Duration.ZERO, Duration.ZERO);
    VolumeOptions options = VolumeOptions.defaults(tmp.resolve("journal"))
        .withSegments(256 << 10, Duration.ofMillis(20), 4)
        .withLease(Duration.ofMillis(300), Duration.ofSeconds(10))
        .withCleaning(cleaning);
    volumes = new VolumeManager(store, options);
  }

  @AfterEach
  void close() throws Exception {
    volumes.stopCollecting();
    store.close();
  }

  @Test
  void arithmetic() {
    assertThat(new SpaceReport(100, 123, 0, null, 1).amplificationText()).isEqualTo("1.23");
    assertThat(new SpaceReport(0, 0, 0, null, 1).amplificationText()).as("nothing stored").isEqualTo("1.00");
    assertThat(new SpaceReport(0, 4096, 0, null, 1).amplificationText()).as("nothing stored is live")
        .isEqualTo("Inf");
    assertThat(SpaceReport.UNKNOWN.measured()).isFalse();
    VolumeStats stats = new VolumeStats(0, 0, 1, 10, 0, 0, 0, null, 80, 100, 9, 5, "disk full");
    assertThat(SpaceReport.of(stats, true, 42)).isEqualTo(new SpaceReport(80, 100, 5, "disk full", 42));
    assertThat(SpaceReport.of(stats, false, 42).measured()).isFalse();
  }

  @Test
  void aServedVolumePublishesItsMeasurementAndKeepsItWhenReleased() throws Exception {
    volumes.create("disk", 8L << 20, BLOCK, 64 << 10);
    assertThat(volumes.space("disk")).as("never served: no lease").isEmpty();
    try (Volume volume = volumes.open("disk")) {
      ByteBuffer data = ByteBuffer.allocate(1 << 20);
      Arrays.fill(data.array(), (byte) 7);
      volume.write(0, data, false);
      volume.drain(Duration.ofSeconds(30));
      SpaceReport served = await(r -> r.measured() && r.liveBytes() == 1 << 20);
      assertThat(served.storedBytes()).isGreaterThanOrEqualTo(served.liveBytes());
      assertThat(served.noSpace()).isNull();
    }
    SpaceReport released = volumes.space("disk").orElseThrow();
    assertThat(released.measured()).isTrue();
    assertThat(released.liveBytes()).isEqualTo(1 << 20);

    try (Volume again = volumes.open("disk")) {
      assertThat(volumes.space("disk").orElseThrow().liveBytes())
          .as("the next owner carries the measurement on until it has its own").isEqualTo(1 << 20);
    }
  }

  private SpaceReport await(Predicate<SpaceReport> done) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      SpaceReport now = volumes.space("disk").orElse(SpaceReport.UNKNOWN);
      if (done.test(now)) {
        return now;
      }
      assertThat(System.nanoTime()).as("space published in time: %s", now).isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
