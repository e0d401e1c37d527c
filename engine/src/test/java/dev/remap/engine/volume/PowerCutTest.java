package dev.remap.engine.volume;

import static dev.remap.engine.volume.CleanerCrashTest.collect;
import static dev.remap.engine.volume.CleanerCrashTest.max;
import static dev.remap.engine.volume.CleanerCrashTest.privateClassPath;
import static dev.remap.engine.volume.CleanerCrashTest.verify;
import static dev.remap.engine.volume.CleanerCrashWriter.BLOCK;
import static dev.remap.engine.volume.CleanerCrashWriter.BLOCKS;
import static dev.remap.engine.volume.CleanerCrashWriter.VOLUME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.CleanerCrashTest.Child;
import dev.remap.testkit.PowerCutMount;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cuts the power under a process that writes, flushes, cleans and collects, many times, and
 * checks after each cut that every block holds its last flushed write or a later one, whole, and
 * that a collection afterwards deletes nothing the volume still reads. Where {@link
 * CleanerCrashTest}'s SIGKILL leaves the page cache to the kernel, this drops whatever was not
 * fsynced: the store and the journal live on the powercut FUSE filesystem (see
 * {@link PowerCutMount}), cut at random moments, unmounted, and mounted again by a fresh
 * instance over the same backing folder, which then holds what a machine would find after the
 * outage.
 *
 * <p>Each cut must drop something: a file the test overwrote without fsync just before it must
 * read as before, or the cut proved nothing.
 *
 * <p>Two models of which namespace changes an fsync makes durable: ext4's and XFS's, where an
 * fsync commits every earlier one, and POSIX's, where a new folder's entry needs an fsync of its
 * parent and a rename one of its folder. And two ways of coming back: the check opens and closes
 * the volume after every cut (emptying the journal into the store), or, every fourth cut, the
 * next writer opens the journal just as the cut left it, as a node back from an outage does, and
 * is cut right after its first flush.
 *
 * <p>All three ran red at first and pass since the uploader syncs the journal before it packs
 * records into a segment (VolumeUploadHost.pack; {@link JournalPowerCutTest} makes that loss
 * happen every time) and since the journal folder's entry and the owner-epoch rename are fsynced
 * (VolumeLock). {@link LazySegmentPowerCutTest} does the same for segments written without fsync.
 */
class PowerCutTest {

  private static final int CUTS = 24;
  private static final byte[] SYNCED = "synced before the cut".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] UNSYNCED = "written after, never synced".getBytes(StandardCharsets.US_ASCII);

  @TempDir Path tmp;

  private PowerCutMount mount;

  @AfterEach
  void unmount() {
    if (mount != null) {
      mount.close();
    }
  }

  @Test
  void flushedWritesSurvivePowerCutsWhileCleaningAndCollecting() throws Exception {
    cutRepeatedly(PowerCutMount.Model.ORDERED, false);
  }

  @Test
  void flushedWritesSurvivePowerCutsAndReopens() throws Exception {
    cutRepeatedly(PowerCutMount.Model.ORDERED, true);
  }

  @Test
  void flushedWritesSurvivePowerCutsAndReopensUnderPosixRulesForFolders() throws Exception {
    cutRepeatedly(PowerCutMount.Model.STRICT, true);
  }

  /** Cuts CUTS times; reopenUnchecked: every fourth writer reopens the journal as the cut left it. */
  private void cutRepeatedly(PowerCutMount.Model model, boolean reopenUnchecked) throws Exception {
    Path backing = Files.createDirectories(tmp.resolve("backing"));
    Path mounted = Files.createDirectories(tmp.resolve("mnt"));
    mount = PowerCutMount.mount(backing, mounted, model);
    Path store = mounted.resolve("store");
    Path journal = mounted.resolve("journal");
    Path canary = mounted.resolve("canary");
    String segments;
    try (ObjectStore s = FileObjectStore.open(store)) {
      VolumeMeta meta = new VolumeManager(s, CleanerCrashWriter.options(journal, false))
          .create(VOLUME, (long) BLOCKS * BLOCK, BLOCK, CleanerCrashWriter.CHUNK);
      segments = StoreLayout.segmentPrefix(meta.id());
    }
    writeDurably(canary, SYNCED);
    String classPath = privateClassPath(tmp);
    Random random = new Random(11);
    int[] floor = new int[BLOCKS];
    int newestStarted = 0;
    int nextRound = 1;
    long cleaned = 0;
    long collectedByChild = 0;
    int cutsNearCleaning = 0;
    for (int cut = 0; cut < CUTS; cut++) {
      Child child = new Child(classPath, store, journal, nextRound);
      try {
        child.awaitFlushed(nextRound);
        switch (reopenUnchecked ? cut % 4 : cut % 3) {
          // Right after a flush, while the flushed round is only in the journal.
          case 0 -> {
            Thread.sleep(random.nextInt(800));
            child.awaitFlushed(child.flushed.get() + 1);
            Thread.sleep(random.nextInt(5));
          }
          // In the middle of a cleaning plan: its segment, its checkpoint, the collection after it.
          case 1 -> {
            child.awaitCleaningStep(Duration.ofSeconds(5));
            Thread.sleep(random.nextInt(40));
          }
          case 2 -> Thread.sleep(random.nextInt(1500));
          // Right after the first flush of a writer that found the journal as the last cut left it.
          default -> Thread.sleep(random.nextInt(5));
        }
        overwriteWithoutSync(canary, UNSYNCED);
        mount.cut();
        if (child.nanosSinceCleaning() < TimeUnit.MILLISECONDS.toNanos(50)) {
          cutsNearCleaning++;
        }
      } finally {
        // Everything it does from the cut on fails (EIO); its flushed rounds are all printed by now.
        child.kill();
      }
      cleaned += child.cleaned.get();
      collectedByChild += child.collected.get();
      int flushed = child.flushed.get();
      for (int round = nextRound; round <= flushed; round++) {
        for (int b : CleanerCrashWriter.blocksOf(round)) {
          floor[b] = round;
        }
      }
      newestStarted = Math.max(newestStarted, flushed + 1);
      String log = mount.log();
      mount.close();
      mount = PowerCutMount.mount(backing, mounted, model);

      assertThat(Files.readAllBytes(canary)).as("a file overwritten without fsync before cut %d (%s)", cut, log)
          .isEqualTo(SYNCED);
      System.out.printf("PowerCutTest %s cut %d: flushed round %d, %d bytes cleaned, %d segments collected; %s", model,
          cut, flushed, child.cleaned.get(), child.collected.get(), log);
      if (reopenUnchecked && cut % 4 == 2) {
        // The next child opens the journal as the cut left it; the check after its cut covers both.
        nextRound = newestStarted + 1;
        continue;
      }
      int[] seen = verify(store, journal, floor, newestStarted, "after cut " + cut);
      collect(store, segments);
      int[] again = verify(store, journal, floor, newestStarted, "after cut " + cut + " and a collection");
      assertThat(again).as("the volume after a collection (cut %d)", cut).isEqualTo(seen);
      nextRound = Math.max(flushed, max(seen)) + 1;
    }
    System.out.printf("PowerCutTest %s: %d cuts (%d within 50 ms of a cleaning step), %d rounds, %d bytes cleaned, "
        + "%d segments collected by the child%n", model, CUTS, cutsNearCleaning, nextRound - 1, cleaned, collectedByChild);
    assertThat(cleaned).as("bytes the cleaner copied over all runs").isPositive();
    assertThat(collectedByChild).as("segments the child's collections deleted before the cuts").isPositive();
    assertThat(cutsNearCleaning).as("cuts within 50 ms of a cleaning step").isGreaterThanOrEqualTo(CUTS / 6);
  }

  static void writeDurably(Path file, byte[] content) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.write(ByteBuffer.wrap(content));
      channel.force(true);
    }
    try (FileChannel folder = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      folder.force(true);
    }
  }

  /** Overwrites the start of file in place and closes it, with no fsync: a page cache would keep it. */
  static void overwriteWithoutSync(Path file, byte[] content) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(content), 0);
    }
    assertThat(Files.readAllBytes(file)).as("what reads see before the cut").startsWith(content);
  }
}
