package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large writes linked from the journal's files instead of copied into segments ({@link
 * JournalLinks}), on a file store beside the journal as on a node: what the store holds, that the
 * data reads back before and after an open, that the cleaner and garbage collection free adopted
 * files once their writes are overwritten (within seconds under a long grace, while the volume is
 * served and after it closed: {@link OwnGarbage}), and that an open deletes an adopted file no
 * segment links to (what a crash between the adoption and its segment leaves).
 */
class JournalLinksTest {

  private static final int BLOCK = 4096;
  private static final int MIB = 1 << 20;
  private static final long SIZE = 32L * MIB;

  @TempDir Path tmp;

  private ObjectStore store;
  private VolumeManager volumes;

  private static VolumeOptions options(Path journal) {
    return VolumeOptions.defaults(journal)
        .withJournal(16 * MIB, 4 * MIB)
        .withSegments(2 * MIB, Duration.ofMillis(20), 4)
        .withCleaning(CleanerTest.atTestSpeed());
  }

  @BeforeEach
  void open() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    volumes = new VolumeManager(store, options(tmp.resolve("journal")));
  }

  @AfterEach
  void close() throws Exception {
    volumes.stopCollecting();
    store.close();
  }

  @Test
  void largeWritesReachTheStoreAsTheJournalWroteThem() throws Exception {
    String id = volumes.create("disk", SIZE, BLOCK, 64 << 10).id();
    byte[] model = new byte[(int) SIZE];
    Random random = new Random(1);
    try (Volume volume = volumes.open("disk")) {
      for (int i = 0; i < 16; i++) {
        write(volume, model, (long) i * MIB, MIB, random);
      }
      volume.drain(Duration.ofSeconds(30));
      verify(volume, model);
    }
    List<ObjectInfo> adopted = objects(id, true);
    assertThat(adopted).as("journal files the store adopted").isNotEmpty();
    long adoptedBytes = adopted.stream().mapToLong(ObjectInfo::size).sum();
    assertThat(adoptedBytes).as("bytes of the adopted journal files: the 16 MiB written and their record headers")
        .isBetween(16L * MIB, 16L * MIB + 64 * 1024);
    long segmentBytes = objects(id, false).stream().mapToLong(ObjectInfo::size).sum();
    assertThat(segmentBytes).as("bytes of the segments, which only link to the writes").isLessThan(64 << 10);
    for (ObjectInfo info : objects(id, false)) {
      SegmentFormat.Header header = SegmentFormat.verify(ByteBuffer.wrap(store.get(info.key())), info.key());
      assertThat(header.entries()).as("entries of " + info.key())
          .allMatch(e -> e.kind() == SegmentFormat.Kind.LINKED);
    }
    try (Stream<Path> journal = Files.list(tmp.resolve("journal"))) {
      for (Path file : journal.filter(Files::isRegularFile).toList()) {
        assertThat(((Number) Files.getAttribute(file, "unix:nlink")).intValue())
            .as("links to %s, left in the journal's folder (a spare the next roll would write over)", file).isOne();
      }
    }
    try (Volume reopened = volumes.open("disk")) {
      verify(reopened, model);
    }
  }

  @Test
  void adoptedJournalFilesAreCleanedAndCollectedOnceTheirWritesAreOverwritten() throws Exception {
    String id = volumes.create("disk", SIZE, BLOCK, 64 << 10).id();
    byte[] model = new byte[(int) SIZE];
    Random random = new Random(2);
    try (Volume volume = volumes.open("disk")) {
      for (int i = 0; i < 16; i++) {
        write(volume, model, (long) i * MIB, MIB, random);
      }
      volume.drain(Duration.ofSeconds(30));
      int adopted = objects(id, true).size();
      assertThat(adopted).as("adopted journal files").isGreaterThan(1);
      // Three quarters of every MiB again, in 4 KiB writes (copied into segments): the adopted
      // files are mostly dead, and the quiet volume's cleaner copies what is live out of them.
      for (int i = 0; i < 16; i++) {
        for (int b = 0; b < 3 * MIB / 4; b += BLOCK) {
          write(volume, model, (long) i * MIB + b, BLOCK, random);
        }
      }
      volume.drain(Duration.ofSeconds(30));
      CleanerTest.eventually(60, () -> {
        new GarbageCollector(store, Duration.ZERO).run();
        return storedPerLiveByte(id, 16L * MIB) <= 1.3;
      });
      assertThat(objects(id, true).size()).as("adopted journal files left, of " + adopted).isLessThan(adopted);
      assertThat(volume.stats().cleanedBytes()).as("live bytes the cleaner copied").isPositive();
      verify(volume, model);
    }
    try (Volume reopened = volumes.open("disk")) {
      verify(reopened, model);
    }
  }

  @Test
  void aServedVolumesOverwrittenSegmentsGoWithoutWaitingOutTheGrace() throws Exception {
    // The process's own collection with an hour's grace, as on a node (5 minutes by default):
    // only what the volume's owner knows is dead may go before the hour is out.
    VolumeOptions.Cleaning c = CleanerTest.atTestSpeed();
    VolumeOptions patientOptions = options(tmp.resolve("journal")).withCleaning(new VolumeOptions.Cleaning(true,
        c.policy(), c.interval(), c.bytesPerSecond(), c.idleAfter(), Duration.ZERO, Duration.ofHours(1)));
    VolumeManager patient = new VolumeManager(store, patientOptions);
    try {
      String id = patient.create("disk", SIZE / 2, BLOCK, 64 << 10).id();
      // An unreferenced young segment of a volume nobody serves here: the grace keeps it.
      String foreign = StoreLayout.segment("not-served-here", 1);
      store.put(foreign, ByteBuffer.wrap(new byte[BLOCK]));
      byte[] model = new byte[(int) (SIZE / 2)];
      Random random = new Random(4);
      try (Volume volume = patient.open("disk")) {
        // Eight times over in 1 MiB writes (linked: adopted journal files), then once in 64 KiB
        // writes: 144 MiB written for 16 MiB of data.
        for (int pass = 0; pass < 8; pass++) {
          for (int i = 0; i < 16; i++) {
            write(volume, model, (long) i * MIB, MIB, random);
          }
        }
        for (int b = 0; b < 16 * MIB; b += 64 << 10) {
          write(volume, model, b, 64 << 10, random);
        }
        volume.drain(Duration.ofSeconds(30));
        CleanerTest.eventually(60, () -> storedPerLiveByte(id, 16L * MIB) <= 1.3);
        verify(volume, model);
      }
      assertThat(store.stat(foreign)).as("a young unreferenced segment of a volume not served here").isPresent();
      try (Volume reopened = patient.open("disk")) {
        verify(reopened, model);
        // Overwritten again and closed at once (a client that disconnects): what the last
        // checkpoint at close left behind goes too, though nothing serves the volume any more.
        for (int pass = 0; pass < 4; pass++) {
          for (int i = 0; i < 16; i++) {
            write(reopened, model, (long) i * MIB, MIB, random);
          }
        }
      }
      CleanerTest.eventually(60, () -> storedPerLiveByte(id, 16L * MIB) <= 1.3);
      try (Volume reopened = patient.open("disk")) {
        verify(reopened, model);
      }
    } finally {
      patient.stopCollecting();
    }
  }

  @Test
  void anOpenDeletesAnAdoptedFileNoSegmentLinksTo() throws Exception {
    String id = volumes.create("disk", SIZE, BLOCK, 64 << 10).id();
    byte[] model = new byte[(int) SIZE];
    Random random = new Random(3);
    long last;
    try (Volume volume = volumes.open("disk")) {
      for (int i = 0; i < 4; i++) {
        write(volume, model, (long) i * MIB, MIB, random);
      }
      volume.drain(Duration.ofSeconds(30));
      List<ObjectInfo> segments = objects(id, false);
      last = StoreLayout.seqOf(segments.get(segments.size() - 1).key());
    }
    // A crash after the store adopted a journal file for the next segment, before that segment
    // was written: the name is there, no segment links to it.
    Path orphanFile = Files.write(tmp.resolve("journal-file"), new byte[3 * MIB]);
    String orphan = StoreLayout.segmentData(id, last + 1);
    assertThat(store.adoptLazily(orphan, orphanFile)).isTrue();
    try (Volume volume = volumes.open("disk")) {
      assertThat(store.stat(orphan)).as("the adopted file no segment links to, after the open").isEmpty();
      for (int i = 4; i < 8; i++) {
        write(volume, model, (long) i * MIB, MIB, random);
      }
      volume.drain(Duration.ofSeconds(30));
      assertThat(store.stat(orphan)).as("the name, given again to the next segment's journal file").isPresent();
      assertThat(Files.isSameFile(tmp.resolve("store").resolve(orphan), orphanFile)).isFalse();
      verify(volume, model);
    }
    try (Volume reopened = volumes.open("disk")) {
      verify(reopened, model);
    }
  }

  /** Bytes of the volume's segments and adopted journal files per byte of its data (live bytes). */
  private double storedPerLiveByte(String id, long live) throws Exception {
    long stored = Stream.concat(objects(id, true).stream(), objects(id, false).stream())
        .mapToLong(ObjectInfo::size).sum();
    return (double) stored / live;
  }

  /** The volume's adopted journal files (true) or its segments (false), in key order. */
  private List<ObjectInfo> objects(String id, boolean adopted) throws Exception {
    return store.list(StoreLayout.segmentPrefix(id)).stream()
        .filter(info -> adopted ? StoreLayout.isSegmentData(info.key()) : StoreLayout.isSegment(info.key()))
        .toList();
  }

  private static void write(Volume volume, byte[] model, long offset, int length, Random random) throws Exception {
    byte[] data = new byte[length];
    random.nextBytes(data);
    System.arraycopy(data, 0, model, (int) offset, length);
    volume.write(offset, ByteBuffer.wrap(data), false);
  }

  private static void verify(Volume volume, byte[] model) throws Exception {
    byte[] seen = new byte[model.length];
    volume.read(0, ByteBuffer.wrap(seen));
    assertThat(java.util.Arrays.mismatch(seen, model)).as("first byte that differs from what was written").isEqualTo(-1);
  }
}
