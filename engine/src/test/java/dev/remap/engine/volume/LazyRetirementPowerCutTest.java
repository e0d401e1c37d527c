package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.testkit.PowerCutMount;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable only when asked: records no FLUSH covered leave the journal once segments hold them,
 * synced or not, and a FLUSH after that covers them too. {@link LazyRetirementWriter} has 3 MiB
 * retired that way (the journal gave them up, no barrier ran), then writes 4 KiB and flushes;
 * then the power is cut, dropping every write not synced. All of it must be there afterwards: the
 * FLUSH made the segments holding the 3 MiB durable before it answered (this fails with that
 * barrier left out: the segments are dropped at open and the journal no longer has the data).
 */
class LazyRetirementPowerCutTest {

  @TempDir Path tmp;
  private PowerCutMount mount;

  @AfterEach
  void unmount() {
    if (mount != null) {
      mount.close();
    }
  }

  @Test
  @Timeout(120)
  void aFlushAfterRecordsLeftTheJournalUnsyncedMakesThemDurable() throws Exception {
    Path backing = Files.createDirectories(tmp.resolve("backing"));
    Path mounted = Files.createDirectories(tmp.resolve("mnt"));
    mount = PowerCutMount.mount(backing, mounted, PowerCutMount.Model.STRICT);
    Path store = mounted.resolve("store");
    Path journal = mounted.resolve("journal");
    Process child = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        CleanerCrashTest.privateClassPath(tmp), LazyRetirementWriter.class.getName(), store.toString(),
        journal.toString()))
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        lines.add(line);
        if (line.equals("FLUSHED")) {
          mount.cut();
          break;
        }
      }
    } finally {
      child.toHandle().destroyForcibly();
      child.waitFor();
    }
    assertThat(lines).as("the writer's report").hasSize(2).last().isEqualTo("FLUSHED");
    String[] retired = lines.get(0).split(" ");
    assertThat(Long.parseLong(retired[1])).as("journal bytes kept for the 3 MiB no FLUSH covered")
        .isLessThan(1 << 20);
    assertThat(retired[3]).as("the durable marker when they left the journal (no barrier since the drain)")
        .isEqualTo(retired[2]);
    mount.close();
    mount = PowerCutMount.mount(backing, mounted, PowerCutMount.Model.STRICT);

    try (ObjectStore s = FileObjectStore.open(store)) {
      CrashCopies.dropLeases(s); // the process opening it stands for the writer after its crash
      VolumeManager volumes = new VolumeManager(s, LazyRetirementWriter.options(journal));
      try (Volume volume = volumes.open(LazyRetirementWriter.VOLUME)) {
        assertRange(volume, 0, 64 << 10, 1, "the write flushed and synced first");
        assertRange(volume, LazyRetirementWriter.UNFLUSHED_AT, LazyRetirementWriter.UNFLUSHED, 2,
            "the 3 MiB the last FLUSH covered after the journal let them go");
        assertRange(volume, LazyRetirementWriter.LAST_AT, LazyRetirementWriter.BLOCK, 3, "the last write");
      } finally {
        volumes.stopCollecting();
      }
    }
  }

  private void assertRange(Volume volume, long offset, int length, int n, String what) throws Exception {
    ByteBuffer seen = ByteBuffer.allocate(length);
    volume.read(offset, seen);
    assertThat(seen.flip()).as("%s after the power cut (%s)", what, mount.log())
        .isEqualTo(LazyRetirementWriter.filled(n, length));
  }
}
