package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The leaves a chunk keeps its spans in: a chunk cut by random 4 KiB writes is held in several
 * leaves (so a change copies one leaf, not the chunk) and still shows maximal spans, and a chunk
 * rewritten whole goes back to one leaf (so chunks of few spans cost what they did).
 */
class ChunkRefLeavesTest {

  private static final int BLOCK = 4096;
  private static final int BLOCKS = 256; // a 1 MiB chunk

  @Test
  void aChunkCutIntoManySpansIsHeldInSeveralLeavesAndShowsMaximalSpans() {
    ChunkRef chunk = ChunkRef.EMPTY.put(0, (long) BLOCKS * BLOCK, new Source.Stored("fill", 0));
    // Every other block rewritten: 256 spans, alternating between the fill and one journal file
    // whose records do not continue each other (a gap of a header between them).
    for (int b = 0; b < BLOCKS; b += 2) {
      chunk = chunk.put((long) b * BLOCK, BLOCK, new Source.Journaled("j", b * (BLOCK + 64L)));
    }
    assertThat(chunk.spans()).hasSize(BLOCKS);
    assertThat(chunk.leafCount()).isGreaterThan(1).isLessThanOrEqualTo(BLOCKS / (ChunkRef.LEAF_TARGET / 2));
    assertThat(chunk.generation()).isEqualTo(1 + BLOCKS / 2);

    // Writing the journaled blocks back in place of the fill joins everything into one span
    // again, across the leaves' bounds.
    for (int b = 0; b < BLOCKS; b += 2) {
      chunk = chunk.relocate((long) b * BLOCK, BLOCK, new Source.Journaled("j", b * (BLOCK + 64L)),
          new Source.Stored("fill", (long) b * BLOCK));
    }
    assertThat(chunk.spans()).containsExactly(new Span(0, (long) BLOCKS * BLOCK, new Source.Stored("fill", 0)));
    assertThat(chunk.leafCount()).isEqualTo(1);
    assertThat(chunk.resolve(BLOCK, 3L * BLOCK))
        .containsExactly(new Span(BLOCK, 3L * BLOCK, new Source.Stored("fill", BLOCK)));
  }

  @Test
  void resolvingAcrossLeavesJoinsHolesAndContinuingSpans() {
    ChunkRef chunk = ChunkRef.EMPTY;
    for (int b = 0; b < BLOCKS; b += 2) {
      chunk = chunk.put((long) b * BLOCK, BLOCK, new Source.Journaled("j", b * (BLOCK + 64L)));
    }
    assertThat(chunk.leafCount()).isGreaterThan(1);
    // Trim all but the first block: the holes of every leaf read as one hole.
    chunk = chunk.put(BLOCK, (long) (BLOCKS - 1) * BLOCK, Source.Hole.INSTANCE);
    assertThat(chunk.resolve(0, (long) BLOCKS * BLOCK)).containsExactly(
        new Span(0, BLOCK, new Source.Journaled("j", 0)),
        new Span(BLOCK, (long) (BLOCKS - 1) * BLOCK, Source.Hole.INSTANCE));
    assertThat(chunk.leafCount()).isEqualTo(1);
    assertThat(List.copyOf(chunk.spans())).hasSize(1);
  }
}
