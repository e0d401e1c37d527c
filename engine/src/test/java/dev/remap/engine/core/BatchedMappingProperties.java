package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The batched mapping changes ({@link MappingTable#putAll}, {@link MappingTable#relocateAll} and
 * the ChunkRef methods under them) against the one-by-one calls they replace: after every batch
 * both tables must hold the same spans, split and joined the same way, under the same generation.
 * Writes land often where their neighbours' bytes continue (so spans must coalesce), moves come
 * from earlier writes that later writes partly overwrote, and batches overlap themselves.
 */
class BatchedMappingProperties {

  private static final int CHUNK = Geometry.MIN_CHUNK_SIZE;
  private static final int BLOCK = 512;

  /**
   * One change: kind 0 trim (hole), 1 zero, 2 journaled, 3 stored. Data lands at its volume
   * offset in one of two files unless shift moves it, so neighbouring writes often continue
   * each other.
   */
  record Change(int kind, int block, int blocks, int file, int shift) {}

  /**
   * One move: from an earlier data change (part of it, from block skip on) or from anywhere;
   * to the segment being packed, right after the previous move unless gap says otherwise.
   */
  record Move(boolean earlier, int pick, int skip, int block, int blocks, int gap) {}

  /** A batch of changes or of moves, applied whole to one table and one by one to the other. */
  record Step(boolean moves, List<Change> changes, List<Move> relocations) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<Change> change = Combinators.combine(
            Arbitraries.integers().between(0, 3),
            Arbitraries.integers().between(0, 4 * CHUNK / BLOCK),
            Arbitraries.integers().between(1, 40),
            Arbitraries.integers().between(0, 1),
            Arbitraries.integers().between(0, 3))
        .as(Change::new);
    Arbitrary<Move> move = Combinators.combine(
            Arbitraries.of(true, true, true, false),
            Arbitraries.integers().between(0, 1000),
            Arbitraries.integers().between(0, 8),
            Arbitraries.integers().between(0, 4 * CHUNK / BLOCK),
            Arbitraries.integers().between(1, 40),
            Arbitraries.integers().between(0, 2))
        .as(Move::new);
    Arbitrary<Step> step = Combinators.combine(
            Arbitraries.of(false, true),
            change.list().ofMinSize(0).ofMaxSize(80),
            move.list().ofMinSize(0).ofMaxSize(80))
        .as(Step::new);
    return step.list().ofMinSize(1).ofMaxSize(12);
  }

  @Property(tries = 400)
  void batchesEqualOneByOne(@ForAll("steps") List<Step> steps, @ForAll @IntRange(min = 1, max = 4) int chunks,
      @ForAll @IntRange(min = 0, max = 127) int tailBlocks) {
    long size = Math.max(BLOCK, (chunks - 1L) * CHUNK + (long) tailBlocks * BLOCK);
    Geometry geometry = new Geometry(size, BLOCK, CHUNK);
    MappingTable batched = new MappingTable(geometry);
    MappingTable sequential = new MappingTable(geometry);
    List<Span> written = new ArrayList<>();
    long[] packed = {0};
    int segment = 0;

    for (Step step : steps) {
      if (step.moves()) {
        List<MappingTable.Relocation> relocations = relocations(step, size, written, "segment" + segment++, packed);
        batched.relocateAll(relocations);
        for (MappingTable.Relocation r : relocations) {
          sequential.relocate(r.offset(), r.length(), r.from(), r.to());
        }
      } else {
        List<Span> changes = changes(step, size, written);
        batched.putAll(changes);
        for (Span span : changes) {
          sequential.put(span.offset(), span.length(), span.source());
        }
      }
      assertSame(batched, sequential);
    }
  }

  /**
   * An upload's commit: relocations worked out without the lock ({@link
   * MappingTable#prepareRelocations}) while writes go on, then installed: the table holds what
   * those writes and then the relocation under the lock would, spans, cuts and generations alike.
   */
  @Property(tries = 400)
  void preparedRelocationsInstalledAfterWritesEqualWritesThenRelocation(@ForAll("steps") List<Step> steps,
      @ForAll @IntRange(min = 1, max = 4) int chunks, @ForAll @IntRange(min = 0, max = 127) int tailBlocks) {
    long size = Math.max(BLOCK, (chunks - 1L) * CHUNK + (long) tailBlocks * BLOCK);
    Geometry geometry = new Geometry(size, BLOCK, CHUNK);
    MappingTable prepared = new MappingTable(geometry);
    MappingTable locked = new MappingTable(geometry);
    List<Span> written = new ArrayList<>();
    long[] packed = {0};
    int segment = 0;
    MappingTable.PreparedRelocations pending = null;
    List<MappingTable.Relocation> pendingMoves = List.of();

    for (Step step : steps) {
      if (step.moves()) {
        if (pending != null) {
          prepared.install(pending);
          locked.relocateAll(pendingMoves);
        }
        List<MappingTable.Relocation> relocations = relocations(step, size, written, "segment" + segment++, packed);
        pending = prepared.prepareRelocations(relocations);
        pendingMoves = relocations;
      } else {
        List<Span> changes = changes(step, size, written);
        // The writes that come while the relocation is worked out.
        prepared.putAll(changes);
        locked.putAll(changes);
        if (pending != null) {
          prepared.install(pending);
          locked.relocateAll(pendingMoves);
          pending = null;
        }
      }
      if (pending == null) {
        assertSame(prepared, locked);
      }
    }
    if (pending != null) {
      prepared.install(pending);
      locked.relocateAll(pendingMoves);
    }
    assertSame(prepared, locked);
  }

  /** A relocation nobody asked to overlap with a put since: still equal, and still coalesced. */
  @Property(tries = 200)
  void movesOfAChunkWrittenInPiecesJoinBackIntoOneSpan(@ForAll @IntRange(min = 1, max = 64) int pieces,
      @ForAll long seed) {
    ChunkRef chunk = ChunkRef.EMPTY;
    List<MappingTable.Relocation> moves = new ArrayList<>();
    Random random = new Random(seed);
    long segmentOffset = 0;
    // Random-order 4 KiB writes, each in its own journal spot: pieces spans that never coalesce.
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < pieces; i++) {
      order.add(i);
    }
    Collections.shuffle(order, random);
    for (int i : order) {
      Source.Journaled from = new Source.Journaled("journal", 4096L * (pieces - i) * 3);
      chunk = chunk.put(4096L * i, 4096, from);
    }
    for (int i = 0; i < pieces; i++) {
      moves.add(new MappingTable.Relocation(4096L * i, 4096, chunk.resolve(4096L * i, 4096).get(0).source(),
          new Source.Stored("segment", segmentOffset)));
      segmentOffset += 4096;
    }
    ChunkRef one = chunk;
    for (MappingTable.Relocation m : moves) {
      one = one.relocate(m.offset(), m.length(), m.from(), m.to());
    }
    ChunkRef all = chunk.relocateAll(moves);
    assertThat(all.spans()).isEqualTo(one.spans()).containsExactly(
        new Span(0, 4096L * pieces, new Source.Stored("segment", 0)));
    assertThat(all.generation()).isEqualTo(one.generation()).isEqualTo(chunk.generation() + pieces);
  }

  @Example
  void chunkBatchesMustBeSortedAndApart() {
    ChunkRef chunk = ChunkRef.EMPTY;
    List<Span> unsorted = List.of(new Span(8192, 4096, Source.Zero.INSTANCE), new Span(0, 4096, Source.Zero.INSTANCE));
    List<Span> overlapping = List.of(new Span(0, 8192, Source.Zero.INSTANCE), new Span(4096, 4096, Source.Zero.INSTANCE));
    assertThatThrownBy(() -> chunk.putAll(unsorted)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> chunk.putAll(overlapping)).isInstanceOf(IllegalArgumentException.class);
    assertThat(chunk.putAll(List.of())).isSameAs(chunk);
    assertThat(chunk.relocateAll(List.of(new MappingTable.Relocation(0, 4096, Source.Zero.INSTANCE,
        new Source.Stored("s", 0))))).as("nothing maps to from: nothing moves").isSameAs(chunk);
  }

  private static void assertSame(MappingTable batched, MappingTable sequential) {
    for (long i = 0; i < batched.geometry().chunkCount(); i++) {
      ChunkRef a = batched.chunk(i);
      ChunkRef b = sequential.chunk(i);
      assertThat(a.spans()).as("spans of chunk %d", i).isEqualTo(b.spans());
      assertThat(a.generation()).as("generation of chunk %d", i).isEqualTo(b.generation());
      List<Span> spans = a.spans();
      for (int s = 1; s < spans.size(); s++) {
        Span left = spans.get(s - 1);
        Span right = spans.get(s);
        boolean continues = left.end() == right.offset()
            && (left.source() == Source.Zero.INSTANCE && right.source() == Source.Zero.INSTANCE
                || Source.continuous(left.source(), left.length(), right.source()));
        assertThat(continues).as("%s and %s of chunk %d should be one span", left, right, i).isFalse();
      }
      assertThat(walked(a)).as("the walk of chunk %d", i).isEqualTo(spans);
    }
  }

  /** The spans {@link ChunkRef#forEachSpan} hands out, as spans. */
  private static List<Span> walked(ChunkRef chunk) {
    List<Span> out = new ArrayList<>();
    chunk.forEachSpan((offset, length, kind, object, objectOffset) -> out.add(new Span(offset, length,
        switch (kind) {
          case ZERO -> Source.Zero.INSTANCE;
          case STORED -> new Source.Stored(object, objectOffset);
          case JOURNALED -> new Source.Journaled(object, objectOffset);
        })));
    return out;
  }

  /** A step's changes as spans; those holding data are added to written (what later moves come from). */
  private static List<Span> changes(Step step, long size, List<Span> written) {
    List<Span> changes = new ArrayList<>();
    for (Change c : step.changes()) {
      Span span = span(c, size);
      changes.add(span);
      if (span.source() instanceof Source.Journaled || span.source() instanceof Source.Stored) {
        written.add(span);
      }
    }
    return changes;
  }

  /** A step's moves as relocations to the segment key (moves that find nothing to move are left out). */
  private static List<MappingTable.Relocation> relocations(Step step, long size, List<Span> written, String key,
      long[] packed) {
    List<MappingTable.Relocation> relocations = new ArrayList<>();
    for (Move m : step.relocations()) {
      MappingTable.Relocation r = relocation(m, size, written, key, packed);
      if (r != null) {
        relocations.add(r);
      }
    }
    return relocations;
  }

  private static Span span(Change c, long size) {
    long offset = Math.min((long) c.block() * BLOCK, size - BLOCK);
    long length = Math.min((long) c.blocks() * BLOCK, size - offset);
    // shift 0 puts data where its volume offset says (neighbours continue); others move it off.
    long objectOffset = offset + (c.shift() == 0 ? 0 : c.shift() * 7L * BLOCK + 1);
    String file = "file" + c.file();
    Source source = switch (c.kind()) {
      case 0 -> Source.Hole.INSTANCE;
      case 1 -> Source.Zero.INSTANCE;
      case 2 -> new Source.Journaled(file, objectOffset);
      default -> new Source.Stored(file, objectOffset);
    };
    return new Span(offset, length, source);
  }

  private static MappingTable.Relocation relocation(Move m, long size, List<Span> written, String key, long[] packed) {
    long offset;
    long length;
    Source from;
    if (m.earlier() && !written.isEmpty()) {
      Span w = written.get(m.pick() % written.size());
      long skip = Math.min((long) m.skip() * BLOCK, w.length() - BLOCK);
      offset = w.offset() + skip;
      length = Math.min((long) m.blocks() * BLOCK, w.end() - offset);
      from = w.source().advance(skip);
    } else {
      offset = Math.min((long) m.block() * BLOCK, size - BLOCK);
      length = Math.min((long) m.blocks() * BLOCK, size - offset);
      from = new Source.Journaled("file" + (m.pick() % 2), offset);
    }
    packed[0] += m.gap() == 2 ? BLOCK : 0; // mostly packed back to back, as an upload packs them
    Source.Stored to = new Source.Stored(key, packed[0]);
    packed[0] += length;
    return new MappingTable.Relocation(offset, length, from, to);
  }
}
