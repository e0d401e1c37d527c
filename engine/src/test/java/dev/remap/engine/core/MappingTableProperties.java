package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * The mapping table against the simplest possible model: a byte array with a per-byte state
 * (hole, zero, data). Objects are byte arrays kept in a map, written once, never changed.
 */
class MappingTableProperties {

  private static final int CHUNK = Geometry.MIN_CHUNK_SIZE;
  private static final byte HOLE = 0;
  private static final byte ZERO = 1;
  private static final byte DATA = 2;

  enum Kind { WRITE, TRIM, ZERO, RELOCATE, SNAPSHOT, GROW }

  record Op(Kind kind, int a, int b, int seed) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op = Combinators.combine(
            Arbitraries.of(Kind.class),
            Arbitraries.integers().between(0, Integer.MAX_VALUE),
            Arbitraries.integers().between(0, Integer.MAX_VALUE),
            Arbitraries.integers())
        .as(Op::new);
    return op.list().ofMinSize(1).ofMaxSize(60);
  }

  /** A model volume plus the objects its data lives in. */
  static final class Model {
    byte[] bytes;
    byte[] state;
    Model(int size) {
      bytes = new byte[size];
      state = new byte[size];
    }
    Model copy() {
      Model m = new Model(0);
      m.bytes = bytes.clone();
      m.state = state.clone();
      return m;
    }
  }

  /** A write's bytes in object key (a journal file when journaled, as writes are until uploaded). */
  record Written(String key, long objectOffset, long volumeOffset, int length, boolean journaled) {
    Source source(long delta) {
      return journaled ? new Source.Journaled(key, objectOffset + delta) : new Source.Stored(key, objectOffset + delta);
    }
  }

  @Property(tries = 300)
  void resolvesLikeAByteArray(@ForAll("ops") List<Op> ops, @ForAll @IntRange(min = 1, max = 5) int chunks,
      @ForAll @IntRange(min = 0, max = 127) int tailBlocks) {
    run(ops, Math.max(512, (chunks - 1) * CHUNK + tailBlocks * 512), 3 * CHUNK);
  }

  /** Hundreds of small changes to two chunks: chunks cut into many spans, held in several leaves. */
  @Property(tries = 100)
  void resolvesLikeAByteArrayWhenChunksAreCutIntoManySpans(@ForAll("manyOps") List<Op> ops) {
    run(ops, 2 * CHUNK, 2048);
  }

  @Provide
  Arbitrary<List<Op>> manyOps() {
    Arbitrary<Kind> kinds = Arbitraries.frequencyOf(
        Tuple.of(12, Arbitraries.just(Kind.WRITE)), Tuple.of(2, Arbitraries.just(Kind.TRIM)),
        Tuple.of(2, Arbitraries.just(Kind.ZERO)), Tuple.of(6, Arbitraries.just(Kind.RELOCATE)),
        Tuple.of(1, Arbitraries.just(Kind.SNAPSHOT)));
    Arbitrary<Op> op = Combinators.combine(kinds,
            Arbitraries.integers().between(0, Integer.MAX_VALUE),
            Arbitraries.integers().between(0, Integer.MAX_VALUE),
            Arbitraries.integers())
        .as(Op::new);
    return op.list().ofMinSize(100).ofMaxSize(600);
  }

  private static void run(List<Op> ops, int size, int maxLength) {
    MappingTable table = new MappingTable(new Geometry(size, 512, CHUNK));
    Model model = new Model(size);
    Map<String, byte[]> objects = new HashMap<>();
    List<Written> written = new ArrayList<>();
    List<MappingTable> snapshots = new ArrayList<>();
    List<Model> snapshotModels = new ArrayList<>();

    for (Op op : ops) {
      int volumeSize = model.bytes.length;
      int offset = op.a() % volumeSize;
      int length = 1 + op.b() % Math.min(volumeSize - offset, maxLength);
      Random random = new Random(op.seed());
      switch (op.kind()) {
        case WRITE -> {
          int padding = random.nextInt(1000);
          byte[] object = new byte[padding + length + random.nextInt(100)];
          random.nextBytes(object);
          String key = "o" + objects.size();
          objects.put(key, object);
          Written w = new Written(key, padding, offset, length, random.nextBoolean());
          table.put(offset, length, w.source(0));
          System.arraycopy(object, padding, model.bytes, offset, length);
          Arrays.fill(model.state, offset, offset + length, DATA);
          written.add(w);
        }
        case TRIM -> {
          table.put(offset, length, Source.Hole.INSTANCE);
          Arrays.fill(model.bytes, offset, offset + length, (byte) 0);
          Arrays.fill(model.state, offset, offset + length, HOLE);
        }
        case ZERO -> {
          table.put(offset, length, Source.Zero.INSTANCE);
          Arrays.fill(model.bytes, offset, offset + length, (byte) 0);
          Arrays.fill(model.state, offset, offset + length, ZERO);
        }
        case RELOCATE -> {
          if (written.isEmpty()) {
            continue;
          }
          // Upload of an earlier write: same bytes, new object. The model does not change; a
          // relocation that touched data written since would show up as old bytes.
          Written w = written.get(random.nextInt(written.size()));
          int from = random.nextInt(w.length());
          int len = 1 + random.nextInt(w.length() - from);
          int padding = random.nextInt(1000);
          byte[] copy = new byte[padding + len];
          System.arraycopy(objects.get(w.key()), (int) w.objectOffset() + from, copy, padding, len);
          String key = "u" + objects.size();
          objects.put(key, copy);
          table.relocate(w.volumeOffset() + from, len, w.source(from), new Source.Stored(key, padding));
        }
        case SNAPSHOT -> {
          snapshots.add(table.copy());
          snapshotModels.add(model.copy());
        }
        case GROW -> {
          int grown = volumeSize + 512 * (1 + random.nextInt(200));
          table.resize(grown);
          model.bytes = Arrays.copyOf(model.bytes, grown);
          model.state = Arrays.copyOf(model.state, grown);
        }
      }
    }
    assertMatches(table, model, objects);
    for (int i = 0; i < snapshots.size(); i++) {
      assertMatches(snapshots.get(i), snapshotModels.get(i), objects);
    }
  }

  private static void assertMatches(MappingTable table, Model model, Map<String, byte[]> objects) {
    int size = model.bytes.length;
    assertThat(table.geometry().size()).isEqualTo(size);
    List<Span> spans = table.resolve(0, size);
    byte[] read = new byte[size];
    byte[] state = new byte[size];
    long cursor = 0;
    Span previous = null;
    for (Span span : spans) {
      assertThat(span.offset()).as("spans cover the range in order").isEqualTo(cursor);
      cursor = span.end();
      int from = (int) span.offset();
      int to = (int) span.end();
      if (span.source() instanceof Source.Stored stored) {
        System.arraycopy(objects.get(stored.key()), (int) stored.offset(), read, from, to - from);
        Arrays.fill(state, from, to, DATA);
      } else if (span.source() instanceof Source.Journaled journaled) {
        System.arraycopy(objects.get(journaled.file()), (int) journaled.offset(), read, from, to - from);
        Arrays.fill(state, from, to, DATA);
      } else {
        Arrays.fill(state, from, to, span.source() == Source.Zero.INSTANCE ? ZERO : HOLE);
      }
      if (previous != null && (previous.source() instanceof Source.Stored
          || previous.source() instanceof Source.Journaled)) {
        assertThat(Source.continuous(previous.source(), previous.length(), span.source()))
            .as("neighbours that continue are joined").isFalse();
      } else if (previous != null) {
        assertThat(previous.source()).as("equal neighbours are joined").isNotSameAs(span.source());
      }
      previous = span;
    }
    assertThat(cursor).isEqualTo(size);
    for (long c = 0; c < table.geometry().chunkCount(); c++) {
      List<Span> chunkSpans = table.chunk(c).spans();
      for (int i = 1; i < chunkSpans.size(); i++) {
        Span before = chunkSpans.get(i - 1);
        Span after = chunkSpans.get(i);
        assertThat(before.end()).as("a chunk's spans are sorted and apart").isLessThanOrEqualTo(after.offset());
        assertThat(before.end() == after.offset() && (Source.continuous(before.source(), before.length(), after.source())
            || (before.source() == Source.Zero.INSTANCE && after.source() == Source.Zero.INSTANCE)))
            .as("a chunk's neighbouring spans that continue each other are one span").isFalse();
      }
      // The walk without Span objects sums the same stored bytes per object as the spans do.
      Map<String, Long> bySpans = new HashMap<>();
      for (Span span : chunkSpans) {
        if (span.source() instanceof Source.Stored stored) {
          bySpans.merge(stored.key(), span.length(), Long::sum);
        }
      }
      Map<String, Long> byWalk = new HashMap<>();
      table.chunk(c).forEachStored((key, length) -> byWalk.merge(key, length, Long::sum));
      assertThat(byWalk).as("stored bytes per object in chunk %d", c).isEqualTo(bySpans);
    }
    assertThat(Arrays.mismatch(read, model.bytes)).as("first byte that reads differently").isEqualTo(-1);
    assertThat(Arrays.mismatch(state, model.state)).as("first byte whose hole/zero/data state differs").isEqualTo(-1);
  }
}
