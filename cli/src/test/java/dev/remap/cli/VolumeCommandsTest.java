package dev.remap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.CleaningPolicy;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The volume and snapshot commands as a user types them, on a file store. */
class VolumeCommandsTest {

  @TempDir Path tmp;
  private StringWriter out;
  private StringWriter err;

  private int run(String... args) {
    out = new StringWriter();
    err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of(args));
    if (args.length > 1 && !args[0].equals("--help")) {
      all.add("--store=file://" + tmp.resolve("store"));
      all.add("--journal=" + tmp.resolve("journal"));
    }
    return cli.execute(all.toArray(String[]::new));
  }

  @Test
  void createListSnapshotCloneDelete() throws Exception {
    assertThat(run("volume", "create", "vm1", "--size", "10G")).isZero();
    assertThat(out.toString()).contains("created vm1").contains("10G");
    assertThat(run("volume", "create", "vm2", "--size", "64M", "--block-size", "512", "--chunk-size", "64K")).isZero();
    assertThat(run("volume", "list")).isZero();
    assertThat(out.toString()).contains("vm1").contains("vm2").contains("64K");

    assertThat(run("snapshot", "create", "vm1", "before-upgrade")).isZero();
    assertThat(run("snapshot", "list", "vm1")).isZero();
    assertThat(out.toString()).contains("vm1@before-upgrade");
    assertThat(run("volume", "clone", "vm1@before-upgrade", "vm1-copy")).isZero();
    assertThat(out.toString()).contains("from vm1@before-upgrade");

    assertThat(run("volume", "resize", "vm2", "--size", "128M")).isZero();
    assertThat(out.toString()).contains("128M");
    assertThat(run("volume", "delete", "vm1")).isZero();
    assertThat(run("volume", "list")).isZero();
    assertThat(out.toString()).doesNotContain("vm1 ").contains("vm1-copy");
    assertThat(run("snapshot", "list", "vm1")).as("snapshots outlive their volume").isZero();
    assertThat(out.toString()).contains("vm1@before-upgrade");
    assertThat(run("snapshot", "delete", "vm1", "before-upgrade")).isZero();
  }

  @Test
  void listShowsStoredAndLiveBytesOfServedVolumes() throws Exception {
    assertThat(run("volume", "create", "served", "--size", "64M")).isZero();
    assertThat(run("volume", "create", "idle", "--size", "64M")).isZero();
    VolumeOptions.Cleaning cleaning = new VolumeOptions.Cleaning(true, CleaningPolicy.Settings.defaults(),
        Duration.ofMillis(100), 1L << 30, Duration.ofMillis(100), Duration.ZERO, Duration.ZERO);
    try (ObjectStore store = FileObjectStore.open(tmp.resolve("store"))) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("server"))
          .withLease(Duration.ofMillis(300), Duration.ofSeconds(10)).withCleaning(cleaning));
      try (Volume volume = volumes.open("served")) {
        ByteBuffer data = ByteBuffer.allocate(3 << 20);
        Arrays.fill(data.array(), (byte) 1);
        volume.write(0, data, false);
        volume.drain(Duration.ofSeconds(30));
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!volumes.space("served").map(r -> r.measured() && r.liveBytes() == 3 << 20).orElse(false)) {
          assertThat(System.nanoTime()).as("the owner published its measurement in time").isLessThan(deadline);
          Thread.sleep(50);
        }
      }
      volumes.stopCollecting();
    }

    assertThat(run("volume", "list")).isZero();
    List<String> lines = out.toString().lines().toList();
    assertThat(lines).filteredOn(l -> l.startsWith("served "))
        .singleElement().asString().containsPattern("stored +3\\.0MiB  live +3\\.0MiB +1\\.0\\d×  ");
    assertThat(lines).filteredOn(l -> l.startsWith("idle "))
        .singleElement().asString().as("never served").containsPattern("stored +-  live +- +-  ");
  }

  @Test
  void exportImportAndGc() throws Exception {
    assertThat(run("volume", "create", "vm1", "--size", "64M")).isZero();
    assertThat(run("snapshot", "create", "vm1", "s1")).isZero();
    assertThat(run("export", "vm1@s1", "--to", "file://" + tmp.resolve("exports/vm1-s1"))).isZero();
    assertThat(out.toString()).contains("exported vm1@s1");
    assertThat(run("import", "--from", "file://" + tmp.resolve("exports/vm1-s1"), "vm1-restored")).isZero();
    assertThat(out.toString()).contains("imported vm1-restored").contains("64M");
    assertThat(run("gc", "--grace", "0s")).isZero();
    assertThat(out.toString()).contains("examined").contains("deleted 0");
    assertThat(run("gc", "--grace", "soon")).isEqualTo(1);
    assertThat(err.toString()).contains("'soon' is not a duration");
  }

  @Test
  void badRequestsAreOneSentenceAndLeaveNothingBehind() throws Exception {
    assertThat(run("volume", "create", "vm1", "--size", "10G")).isZero();
    assertThat(run("volume", "create", "vm1", "--size", "1G")).isEqualTo(1);
    assertThat(err.toString().strip()).isEqualTo("remap: volume vm1 already exists in file://" + tmp.resolve("store"));
    assertThat(run("volume", "create", "odd", "--size", "1001", "--block-size", "512")).isEqualTo(1);
    assertThat(err.toString()).contains("not a multiple of the block size 512");
    assertThat(run("volume", "create", "big", "--size", "ten")).isEqualTo(1);
    assertThat(err.toString()).contains("'ten' is not a size");
    assertThat(run("volume", "resize", "vm1", "--size", "1G")).isEqualTo(1);
    assertThat(err.toString()).contains("can only grow");
    assertThat(run("volume", "delete", "ghost")).isEqualTo(1);
    assertThat(err.toString()).contains("volume ghost does not exist");
    assertThat(run("volume", "clone", "vm1", "x")).isEqualTo(1);
    assertThat(err.toString()).contains("'vm1' is not VOLUME@SNAPSHOT");
    assertThat(run("volume", "list")).isZero();
    assertThat(out.toString().strip().lines()).hasSize(1);
    try (var files = Files.list(tmp.resolve("store").resolve("volumes"))) {
      assertThat(files).hasSize(1);
    }
  }
}
