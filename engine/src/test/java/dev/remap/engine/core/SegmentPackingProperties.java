package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link SegmentPacking} against the batch it packs: applying the packed entries in order to a
 * table gives the same table as applying the batch's changes one by one (so a segment is the
 * volume as of its last change, whatever comes after), and no byte of the batch is packed twice.
 * Changes overlap often, run across chunk boundaries, and are writes, zeroes and trims.
 */
class SegmentPackingProperties {

  private static final int CHUNK = Geometry.MIN_CHUNK_SIZE;
  private static final int BLOCK = 512;
  private static final int BLOCKS = 3 * CHUNK / BLOCK;

  /** kind 0 trim, 1 zero, 2..4 write (writes are the common case). */
  record Op(int kind, int block, int blocks) {}

  @Provide
  Arbitrary<List<Op>> batches() {
    return batchesOf(BLOCKS - 1, 300, 60);
  }

  /** Short changes over the whole range: most touch no other (each packed whole), some do. */
  @Provide
  Arbitrary<List<Op>> sparseBatches() {
    return batchesOf(BLOCKS - 8, 8, 12);
  }

  /** Up to most changes, each at a block up to lastBlock and up to blocks long, within the range. */
  private static Arbitrary<List<Op>> batchesOf(int lastBlock, int blocks, int most) {
    Arbitrary<Op> op = Combinators.combine(
            Arbitraries.integers().between(0, 4),
            Arbitraries.integers().between(0, lastBlock),
            Arbitraries.integers().between(1, blocks))
        .as((kind, block, length) -> new Op(kind, block, Math.min(length, BLOCKS - block)));
    return op.list().ofMinSize(1).ofMaxSize(most);
  }

  @Property(tries = 400)
  void theSegmentIsTheBatchAppliedInOrder(@ForAll("batches") List<Op> batch) {
    checkPacking(batch);
  }

  @Property(tries = 400)
  void aSparseBatchIsPackedAsAppliedInOrderToo(@ForAll("sparseBatches") List<Op> batch) {
    checkPacking(batch);
  }

  private static void checkPacking(List<Op> batch) {
    List<SegmentPacking.Change> changes = changes(batch);
    SegmentPacking.Packed packed = SegmentPacking.pack(changes);

    Geometry geometry = new Geometry((long) BLOCKS * BLOCK, BLOCK, CHUNK);
    MappingTable direct = new MappingTable(geometry);
    MappingTable fromSegment = new MappingTable(geometry);
    for (SegmentPacking.Change c : changes) {
      direct.put(c.offset(), c.length(), sourceOf(c.kind(), c.payload()));
    }
    int d = 0;
    long dataBytes = 0;
    for (SegmentFormat.Entry e : packed.entries()) {
      Source source;
      if (e.kind() == SegmentFormat.Kind.DATA) {
        Span piece = packed.data().get(d++);
        assertThat(piece.offset()).isEqualTo(e.volumeOffset());
        assertThat(piece.length()).isEqualTo(e.length());
        source = piece.source();
        dataBytes += piece.length();
      } else {
        source = sourceOf(e.kind(), null);
      }
      fromSegment.put(e.volumeOffset(), e.length(), source);
    }
    assertThat(d).as("one data location per DATA entry").isEqualTo(packed.data().size());
    assertThat(fromSegment.resolve(0, geometry.size())).isEqualTo(direct.resolve(0, geometry.size()));
    // Each byte at most once: the data is no more than the bytes the last writes left.
    long live = 0;
    for (Span span : direct.resolve(0, geometry.size())) {
      if (span.source() instanceof Source.Journaled) {
        live += span.length();
      }
    }
    assertThat(dataBytes).as("bytes packed").isEqualTo(live);
  }

  @Example
  void aWriteOverwrittenByALaterOneInTheBatchIsLeftOutAndOneOverwrittenLaterIsKept() {
    // Block 0 written, then overwritten within the batch: only the second write is packed.
    List<SegmentPacking.Change> changes = changes(List.of(new Op(2, 0, 4), new Op(3, 2, 4)));
    SegmentPacking.Packed packed = SegmentPacking.pack(changes);
    assertThat(packed.data()).extracting(Span::offset, Span::length)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, 2L * BLOCK), org.assertj.core.groups.Tuple.tuple(2L * BLOCK, 4L * BLOCK));
  }

  private static List<SegmentPacking.Change> changes(List<Op> batch) {
    List<SegmentPacking.Change> changes = new ArrayList<>();
    long journalAt = 0;
    for (Op op : batch) {
      long offset = (long) op.block() * BLOCK;
      long length = (long) op.blocks() * BLOCK;
      SegmentFormat.Kind kind = op.kind() == 0 ? SegmentFormat.Kind.TRIM
          : op.kind() == 1 ? SegmentFormat.Kind.ZERO : SegmentFormat.Kind.DATA;
      Source payload = kind == SegmentFormat.Kind.DATA ? new Source.Journaled("journal", journalAt) : null;
      journalAt += length + 64; // each write's bytes elsewhere in the journal
      changes.add(new SegmentPacking.Change(kind, offset, length, payload));
    }
    return changes;
  }

  private static Source sourceOf(SegmentFormat.Kind kind, Source payload) {
    return switch (kind) {
      case DATA, LINKED -> payload;
      case ZERO -> Source.Zero.INSTANCE;
      case TRIM -> Source.Hole.INSTANCE;
    };
  }
}
