package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.Geometry;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.core.Source;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The stored table applies queued segments when read, to the same table as applying each at once. */
class StoredTableTest {

  private static final int CHUNK = Geometry.MIN_CHUNK_SIZE;
  private static final Geometry GEOMETRY = new Geometry(16L * CHUNK, 512, CHUNK);

  @Test
  void segmentsAppliedWhenReadGiveWhatApplyingEachGave() throws Exception {
    Random random = new Random(7);
    MappingTable eager = new MappingTable(GEOMETRY);
    StoredTable lazy = new StoredTable(new MappingTable(GEOMETRY));
    for (int seq = 1; seq <= 40; seq++) {
      SegmentFormat.Header header = segment(random, seq);
      SegmentFormat.apply(header, "segments/v/" + seq, eager);
      lazy.queue(header, "segments/v/" + seq);
      if (seq % 13 == 0) {
        assertSame(lazy.current(), eager); // a reader between commits
        assertThat(lazy.queuedChanges()).isZero();
      }
    }
    assertThat(lazy.queuedChanges()).as("changes wait for a reader").isPositive();
    assertSame(lazy.current(), eager);
  }

  @Test
  void anotherOwnersTableReplacesWhatIsQueued() throws Exception {
    StoredTable lazy = new StoredTable(new MappingTable(GEOMETRY));
    lazy.queue(segment(new Random(1), 1), "segments/v/1");
    MappingTable theirs = new MappingTable(GEOMETRY);
    theirs.put(0, CHUNK, new Source.Stored("segments/v/9", 64));
    lazy.assign(theirs);
    assertSame(lazy.current(), theirs);
  }

  @Test
  void theQueueIsBounded() throws Exception {
    StoredTable lazy = new StoredTable(new MappingTable(GEOMETRY));
    Random random = new Random(3);
    for (int seq = 1; lazy.queuedChanges() < StoredTable.MOST_QUEUED && seq < 100_000; seq++) {
      int before = lazy.queuedChanges();
      lazy.queue(segment(random, seq), "segments/v/" + seq);
      if (lazy.queuedChanges() < before) {
        return; // applied once the bound was reached
      }
    }
    throw new AssertionError("the queue grew past " + StoredTable.MOST_QUEUED + " changes");
  }

  /** A segment of random writes, zeroes and trims (overlapping ones included), as parse returns it. */
  private static SegmentFormat.Header segment(Random random, long seq) throws Exception {
    List<SegmentFormat.Entry> entries = new ArrayList<>();
    List<ByteBuffer> payloads = new ArrayList<>();
    for (int i = 0; i < 1 + random.nextInt(60); i++) {
      long offset = 512L * random.nextInt((int) (GEOMETRY.size() / 512) - 16);
      long length = 512L * (1 + random.nextInt(16));
      SegmentFormat.Kind kind = SegmentFormat.Kind.values()[random.nextInt(5) < 3 ? 0 : 1 + random.nextInt(2)];
      entries.add(new SegmentFormat.Entry(kind, offset, length, 0));
      if (kind == SegmentFormat.Kind.DATA) {
        payloads.add(ByteBuffer.allocate((int) length));
      }
    }
    return SegmentFormat.parse(SegmentFormat.encode(seq, seq, seq, entries, payloads), "segment " + seq);
  }

  private static void assertSame(MappingTable actual, MappingTable expected) {
    for (long c = 0; c < GEOMETRY.chunkCount(); c++) {
      assertThat(actual.chunk(c).spans()).as("spans of chunk %d", c).isEqualTo(expected.chunk(c).spans());
      assertThat(actual.chunk(c).generation()).as("generation of chunk %d", c).isEqualTo(expected.chunk(c).generation());
    }
  }
}
