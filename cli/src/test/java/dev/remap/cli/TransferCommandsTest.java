package dev.remap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.SnapshotTransfer;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `remap export` and `remap import` as a Kubernetes Job runs them: a real process (this module's
 * classes, a fresh JVM) on file stores, read through its exit status, its stdout progress lines,
 * its stderr and its termination message file.
 */
class TransferCommandsTest {

  private static final int SIZE = 4 << 20;
  @TempDir Path tmp;
  private Path storeDir;
  private byte[] written;

  record Run(int exit, List<String> stdout, String stderr, String terminationMessage) {
    String last() {
      return stdout.isEmpty() ? "" : stdout.get(stdout.size() - 1);
    }
  }

  @BeforeEach
  void aVolumeWithTwoSnapshots() throws Exception {
    storeDir = tmp.resolve("store");
    written = new byte[3 << 20];
    new Random(7).nextBytes(written);
    try (ObjectStore store = FileObjectStore.open(storeDir)) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")));
      volumes.create("vm1", SIZE, 4096, 64 << 10);
      try (Volume vm = volumes.open("vm1")) {
        vm.write(1 << 20, ByteBuffer.wrap(written), false);
        volumes.snapshot(vm, "monday");
        vm.write(0, ByteBuffer.wrap(new byte[] {1, 2, 3}), false);
        volumes.snapshot(vm, "tuesday");
      }
    }
  }

  private Run remap(String... args) throws Exception {
    Path log = tmp.resolve("termination-log");
    Files.writeString(log, "");
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    command.add("--termination-log=" + log);
    Path out = tmp.resolve("stdout");
    Path err = tmp.resolve("stderr");
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    return new Run(p.exitValue(), Files.readAllLines(out), Files.readString(err), Files.readString(log));
  }

  private String store() {
    return "--store=file://" + storeDir;
  }

  private String journal() {
    return "--journal=" + tmp.resolve("cli-journal");
  }

  @Test
  void anExportReportsProgressAndARunAgainFindsItDoneWithoutCopying() throws Exception {
    Path target = tmp.resolve("exports/vm1");
    Run first = remap("export", store(), journal(), "vm1@monday", "--to=file://" + target);
    assertThat(first.exit()).as(first.stderr()).isZero();
    assertThat(first.stdout()).filteredOn(l -> !l.startsWith("exported vm1@monday to "))
        .allMatch(l -> l.matches("(progress|done) copied=\\d+ total=\\d+"));
    assertThat(first.stdout().get(0)).startsWith("progress copied=0 total=");
    long total = Long.parseLong(first.last().replaceAll(".*total=", ""));
    assertThat(total).isGreaterThanOrEqualTo(written.length);
    assertThat(first.last()).isEqualTo("done copied=" + total + " total=" + total);
    assertThat(first.terminationMessage()).isEqualTo(first.last());
    byte[] manifest = Files.readAllBytes(target.resolve(SnapshotTransfer.MANIFEST));

    Run again = remap("export", store(), journal(), "vm1@monday", "--to=file://" + target);
    assertThat(again.exit()).as(again.stderr()).isZero();
    assertThat(again.stdout()).containsExactly("file://" + target + " holds this export of vm1@monday already",
        "done copied=0 total=" + total + " existing=true");
    assertThat(Files.readAllBytes(target.resolve(SnapshotTransfer.MANIFEST))).isEqualTo(manifest);
  }

  @Test
  void anotherExportInTheTargetIsNeverOverwrittenAndTheFailureIsOneSentence() throws Exception {
    Path target = tmp.resolve("exports/vm1");
    assertThat(remap("export", store(), journal(), "vm1@monday", "--to=file://" + target).exit()).isZero();
    byte[] manifest = Files.readAllBytes(target.resolve(SnapshotTransfer.MANIFEST));

    Run other = remap("export", store(), journal(), "vm1@tuesday", "--to=file://" + target);
    assertThat(other.exit()).isEqualTo(1);
    assertThat(other.stderr().lines().toList()).hasSize(1).first().asString()
        .startsWith("remap: ").contains("holds a different export already").contains("never overwritten");
    assertThat(other.terminationMessage()).isEqualTo(other.stderr().strip().substring("remap: ".length()));
    assertThat(Files.readAllBytes(target.resolve(SnapshotTransfer.MANIFEST))).isEqualTo(manifest);

    Run missing = remap("export", store(), journal(), "vm1@friday", "--to=file://" + tmp.resolve("exports/x"));
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.terminationMessage()).isEqualTo("snapshot vm1@friday does not exist in file://" + storeDir);
  }

  @Test
  void anImportMakesTheVolumeGrowsItAndARunAgainKeepsIt() throws Exception {
    Path target = tmp.resolve("exports/vm1");
    assertThat(remap("export", store(), journal(), "vm1@monday", "--to=file://" + target).exit()).isZero();
    Path second = tmp.resolve("second");

    Run first = remap("import", "--store=file://" + second, journal(), "--from=file://" + target, "--size=8M", "copy");
    assertThat(first.exit()).as(first.stderr()).isZero();
    long total = Long.parseLong(first.last().replaceAll(".*total=", ""));
    assertThat(first.last()).isEqualTo("done copied=" + total + " total=" + total);
    assertThat(first.stdout().get(0)).isEqualTo("progress copied=0 total=" + total);
    try (ObjectStore store = FileObjectStore.open(second)) {
      VolumeManager volumes = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("check-journal")));
      assertThat(volumes.meta("copy").geometry().size()).isEqualTo(8 << 20);
      try (Volume copy = volumes.open("copy")) {
        ByteBuffer data = ByteBuffer.allocate(written.length);
        copy.read(1 << 20, data);
        assertThat(data.array()).isEqualTo(written);
      }
    }

    Run again = remap("import", "--store=file://" + second, journal(), "--from=file://" + target, "--size=8M", "copy");
    assertThat(again.exit()).as(again.stderr()).isZero();
    assertThat(again.stdout()).last().isEqualTo("done copied=0 total=" + total + " existing=true");
    assertThat(again.stdout()).anyMatch(l -> l.startsWith("imported before: copy"));

    Run small = remap("import", "--store=file://" + second, journal(), "--from=file://" + target, "--size=1M", "other");
    assertThat(small.exit()).isEqualTo(1);
    assertThat(small.terminationMessage()).contains("is " + SIZE + " bytes, more than --size 1M");

    Run taken = remap("import", store(), journal(), "--from=file://" + target, "vm1");
    assertThat(taken.exit()).isEqualTo(1);
    assertThat(taken.terminationMessage()).contains("volume vm1 already exists").contains("was not imported from");
  }

  @Test
  void credentialsComeInPairsFromTheEnvironmentNeverArguments() throws IOException {
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> EnvCredentials.open("s3://b/p?endpoint=http://127.0.0.1:1",
        EnvCredentials.TO, java.util.Map.of("REMAP_TO_ACCESS_KEY_ID", "a")))).hasMessageContaining(
        "REMAP_TO_ACCESS_KEY_ID and REMAP_TO_SECRET_ACCESS_KEY go together");
  }
}
