package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.nbd.NbdServer;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.SmallDisk;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full node disk is an answer, not a hang (issue 13): a volume served over NBD on a real, small
 * ext4 filesystem, written by qemu-io until the disk is full. Writes must then fail with ENOSPC
 * at once (QEMU pauses the VM), reads must go on, writes must succeed again by themselves once
 * space is freed, and every acknowledged write must be there after the volume is reopened.
 *
 * <p>Two ways to fill up: the journal's own disk (the journal and the store share it), and the
 * store's disk while the journal, elsewhere, still has room until it fills too.
 */
class FullDiskTest {

  private static final int CHUNK = 512 << 10;
  private static final long SIZE = 64L << 20;
  /** How long an answer may take; a hang is caught by the process deadline. */
  private static final Duration PROMPT = Duration.ofSeconds(5);
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final String ENOSPC = "No space left on device";
  private static final Pattern WROTE = Pattern.compile("^wrote (\\d+)/\\d+ bytes at offset (\\d+)$", Pattern.MULTILINE);
  private static final Pattern WRITE_FAILED = Pattern.compile("^write failed: (.*)$", Pattern.MULTILINE);

  @TempDir Path tmp;
  private SmallDisk disk;
  private ObjectStore store;
  private VolumeOptions options;
  private NbdServer server;
  private Process holder;
  /** Acknowledged chunks: index → pattern byte. */
  private final TreeMap<Integer, Integer> acknowledged = new TreeMap<>();
  /** Chunks whose write failed (and that no later write acknowledged): old or new bytes. */
  private final TreeMap<Integer, Integer> failed = new TreeMap<>();
  private int nextChunk;

  /** What qemu-io answered to one write. */
  private record Outcome(int chunk, boolean written, String error) {}

  @BeforeEach
  void mount() throws IOException {
    Assumptions.assumeTrue(SmallDisk.canMount(), "mounting a small ext4 filesystem needs root");
    disk = SmallDisk.ext4(tmp, 48L << 20);
  }

  @AfterEach
  void unmount() throws Exception {
    try {
      stopHolder();
      if (disk != null) {
        disk.free(); // so that closing uploads what it can instead of waiting for space
      }
      if (server != null) {
        server.close();
      }
      if (store != null) {
        store.close();
      }
    } finally {
      if (disk != null) {
        disk.close();
      }
    }
  }

  @Test
  void aFullNodeDiskFailsWritesWithEnospcAtOnceKeepsReadsAndResumesWhenSpaceIsFreed() throws Exception {
    // The journal's capacity is far beyond the disk: the disk, not the journal, is what fills.
    serve(disk.root().resolve("store"), VolumeOptions.defaults(disk.root().resolve("journal"))
        .withJournal(256L << 20, 2L << 20).withSegments(1 << 20, Duration.ofMillis(50), 4));
    disk.fillLeaving(12L << 20);

    List<Outcome> filling = write(40);
    assertThat(filling).as("the first writes fit").first().matches(Outcome::written);
    assertThat(filling).as("the disk fills").anyMatch(o -> !o.written());
    assertThat(filling).filteredOn(o -> !o.written()).extracting(Outcome::error).containsOnly(ENOSPC);

    // Whatever an upload freed meanwhile is taken too: the disk is now really full.
    disk.fill();
    expectRefusedPromptly();
    expectReadsOfEverythingAcknowledged();

    disk.free();
    assertThat(write(4)).as("writes succeed again without a restart").allMatch(Outcome::written);
    expectEverythingAcknowledgedAfterReopen();
  }

  @Test
  void aFullStoreFailsWritesWithEnospcOnceTheJournalIsFullAndResumesWhenSpaceIsFreed() throws Exception {
    // The journal is on a roomy disk but small; the store's disk is full from the start.
    serve(disk.root().resolve("store"), VolumeOptions.defaults(tmp.resolve("journal"))
        .withJournal(4L << 20, 2L << 20).withSegments(1 << 20, Duration.ofMillis(50), 4));
    disk.fill();

    long start = System.nanoTime();
    List<Outcome> filling = write(16);
    assertThat(filling).as("the journal takes writes while it has room").first().matches(Outcome::written);
    assertThat(filling).as("then it is full and the store cannot take its contents")
        .anyMatch(o -> !o.written());
    assertThat(filling).filteredOn(o -> !o.written()).extracting(Outcome::error).containsOnly(ENOSPC);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("no write waited for space").isLessThan(PROMPT.multipliedBy(2));
    expectReadsOfEverythingAcknowledged();

    disk.free();
    // The uploader retries with a backoff of up to 5 s; until then writes are refused, promptly.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Outcome retried;
    do {
      retried = writeOneWithin(PROMPT);
      assertThat(retried.written() || ENOSPC.equals(retried.error())).as("answer %s", retried).isTrue();
      if (!retried.written()) {
        Thread.sleep(300);
      }
    } while (!retried.written() && System.nanoTime() < until);
    assertThat(retried.written()).as("writes succeed again once the store has space").isTrue();
    assertThat(write(12)).as("the journal is emptied into the store again").allMatch(Outcome::written);
    expectEverythingAcknowledgedAfterReopen();
  }

  private void serve(Path storeRoot, VolumeOptions volumeOptions) throws Exception {
    options = volumeOptions;
    store = FileObjectStore.open(storeRoot);
    VolumeManager volumes = new VolumeManager(store, options);
    volumes.create("vm", SIZE, 4096, 1 << 20);
    // No RAM cache: every read goes to the journal or the store.
    server = NbdServer.start(new dev.remap.engine.export.VolumeExports(volumes), new NbdServer.Options(tmp.resolve("nbd.sock"), null, null, false, 0, 2, 16));
    holdExportOpen();
  }

  /**
   * Keeps one connection open for the whole test: the export (and the volume, its uploader and
   * the journal's refusal state) then stays the same across the qemu-io runs, as for a VM.
   */
  private void holdExportOpen() throws Exception {
    Path log = tmp.resolve("holder.log");
    // Line-buffered, so that its first answer shows while it sleeps.
    holder = new ProcessBuilder(RemapPaths.command("stdbuf").toString(), "-oL", qemuIo().toString(),
        "-f", "raw", "-r", "-c", "read 0 512", "-c", "sleep 600000", uri())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long until = System.nanoTime() + DEADLINE.toNanos();
    while (!(Files.exists(log) && Files.readString(log).contains("read 512/512"))) {
      assertThat(holder.isAlive()).as("qemu-io holding the export: %s", Files.exists(log) ? Files.readString(log) : "").isTrue();
      assertThat(System.nanoTime()).as("qemu-io connects").isLessThan(until);
      Thread.sleep(50);
    }
  }

  private void stopHolder() throws InterruptedException {
    if (holder != null) {
      holder.destroy();
      if (!holder.waitFor(10, TimeUnit.SECONDS)) {
        holder.destroyForcibly().waitFor();
      }
      holder = null;
    }
  }

  /** Writes the next count chunks, each with its own pattern, in one qemu-io run. */
  private List<Outcome> write(int count) {
    List<String> args = new ArrayList<>(List.of(qemuIo().toString(), "-f", "raw"));
    int first = nextChunk;
    for (int i = 0; i < count; i++) {
      args.add("-c");
      args.add(String.format("write -P 0x%02x %d %d", pattern(first + i), (long) (first + i) * CHUNK, CHUNK));
    }
    args.add("-c");
    args.add("flush");
    args.add(uri());
    nextChunk += count;
    return outcomes(first, count, Proc.run(DEADLINE, args.toArray(String[]::new)).output());
  }

  private Outcome writeOneWithin(Duration limit) {
    long start = System.nanoTime();
    Outcome outcome = write(1).get(0);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the answer to %s comes promptly", outcome).isLessThan(limit);
    return outcome;
  }

  /** A write must be refused with ENOSPC soon; any that still fit (space an upload freed) are taken. */
  private void expectRefusedPromptly() throws IOException {
    for (int attempt = 0; attempt < 5; attempt++) {
      Outcome outcome = writeOneWithin(PROMPT);
      if (!outcome.written()) {
        assertThat(outcome.error()).isEqualTo(ENOSPC);
        return;
      }
      disk.fill();
    }
    throw new AssertionError("five writes to a full disk were all acknowledged");
  }

  private List<Outcome> outcomes(int first, int count, String output) {
    List<Outcome> outcomes = new ArrayList<>();
    // qemu-io runs the commands in order and prints one line per write: "wrote" or "write failed".
    Matcher wrote = WROTE.matcher(output);
    Matcher failure = WRITE_FAILED.matcher(output);
    int at = 0;
    for (int i = 0; i < count; i++) {
      boolean w = wrote.find(at);
      boolean f = failure.find(at);
      int chunk = first + i;
      if (w && (!f || wrote.start() < failure.start())) {
        assertThat(Long.parseLong(wrote.group(2))).isEqualTo((long) chunk * CHUNK);
        outcomes.add(new Outcome(chunk, true, null));
        acknowledged.put(chunk, pattern(chunk));
        failed.remove(chunk);
        at = wrote.end();
      } else if (f) {
        outcomes.add(new Outcome(chunk, false, failure.group(1).trim()));
        if (!acknowledged.containsKey(chunk)) {
          failed.put(chunk, pattern(chunk));
        }
        at = failure.end();
      } else {
        throw new AssertionError("qemu-io said nothing about write " + i + " of " + count + ":\n" + output);
      }
    }
    return outcomes;
  }

  /** Reads every acknowledged chunk back through NBD while the disk is full. */
  private void expectReadsOfEverythingAcknowledged() {
    List<String> args = new ArrayList<>(List.of(qemuIo().toString(), "-f", "raw"));
    acknowledged.forEach((chunk, pattern) -> {
      args.add("-c");
      args.add(String.format("read -P 0x%02x %d %d", pattern, (long) chunk * CHUNK, CHUNK));
    });
    args.add(uri());
    String output = Proc.run(DEADLINE, args.toArray(String[]::new)).requireSuccess().output();
    assertThat(output).doesNotContain("failed").doesNotContain("Pattern verification");
    assertThat(output.lines().filter(l -> l.startsWith("read " + CHUNK + "/" + CHUNK))).hasSize(acknowledged.size());
  }

  /**
   * Closes the export (the volume syncs its journal and uploads), reopens the volume from the
   * store and the journal folder, and compares every chunk: acknowledged ones hold their pattern,
   * failed ones their old or new bytes, the rest zeroes.
   */
  private void expectEverythingAcknowledgedAfterReopen() throws Exception {
    stopHolder();
    server.close();
    server = null;
    try (Volume volume = new VolumeManager(store, options).open("vm")) {
      ByteBuffer all = ByteBuffer.allocate((int) SIZE);
      volume.read(0, all);
      byte[] bytes = all.array();
      byte[] zero = new byte[CHUNK];
      for (int chunk = 0; chunk < SIZE / CHUNK; chunk++) {
        byte[] got = Arrays.copyOfRange(bytes, chunk * CHUNK, (chunk + 1) * CHUNK);
        byte[] written = new byte[CHUNK];
        Arrays.fill(written, (byte) pattern(chunk));
        if (acknowledged.containsKey(chunk)) {
          assertThat(Arrays.equals(got, written)).as("acknowledged chunk %d", chunk).isTrue();
        } else if (failed.containsKey(chunk)) {
          assertThat(Arrays.equals(got, zero) || Arrays.equals(got, written)).as("failed chunk %d", chunk).isTrue();
        } else {
          assertThat(Arrays.equals(got, zero)).as("unwritten chunk %d", chunk).isTrue();
        }
      }
    }
  }

  private static int pattern(int chunk) {
    return chunk % 250 + 1;
  }

  private String uri() {
    return "nbd+unix:///vm?socket=" + tmp.resolve("nbd.sock");
  }

  private static Path qemuIo() {
    return RemapPaths.command("qemu-io");
  }
}
