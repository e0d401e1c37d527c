package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.core.RequestMerger.Merged;
import dev.remap.engine.core.RequestMerger.Request;
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
import org.junit.jupiter.api.Test;

/** Executing the merged plan is indistinguishable from executing the requests in arrival order. */
class RequestMergerProperties {

  private static final int SIZE = 256;

  record Raw(Kind kind, int block, int blocks) {}

  @Provide
  Arbitrary<List<Raw>> batches() {
    // Small offsets in a small volume so that adjacency and overlap are frequent.
    Arbitrary<Raw> raw = Combinators.combine(
            Arbitraries.of(Kind.class),
            Arbitraries.integers().between(0, 31),
            Arbitraries.integers().between(1, 4))
        .as(Raw::new);
    return raw.list().ofMaxSize(40);
  }

  @Property(tries = 500)
  void planIsEquivalentToArrivalOrder(@ForAll("batches") List<Raw> batch, @ForAll long seed) {
    List<Request> requests = new ArrayList<>();
    for (Raw raw : batch) {
      long offset = raw.block() * 8L;
      long length = Math.min(raw.blocks() * 8L, SIZE - offset);
      requests.add(new Request(requests.size(), raw.kind(), offset, length));
    }
    Random random = new Random(seed);
    Map<Integer, byte[]> payloads = new HashMap<>();
    for (Request r : requests) {
      byte[] data = new byte[(int) r.length()];
      random.nextBytes(data);
      payloads.put(r.index(), data);
    }

    byte[] expected = new byte[SIZE];
    Map<Integer, byte[]> expectedReads = new HashMap<>();
    for (Request r : requests) {
      apply(expected, r.kind(), r.offset(), r.length(), payloads.get(r.index()), expectedReads, r.index());
    }

    List<Merged> plan = new RequestMerger(24).plan(requests);
    byte[] actual = new byte[SIZE];
    Map<Integer, byte[]> actualReads = new HashMap<>();
    List<Integer> served = new ArrayList<>();
    for (Merged m : plan) {
      if (m.parts().size() > 1) {
        assertThat(m.length()).as("merged operations respect the cap").isLessThanOrEqualTo(24L);
      }
      if (m.kind() == Kind.FLUSH) {
        for (Request flush : m.parts()) {
          // A flush covers every change that arrived before it: each has been applied by now.
          for (Request earlier : requests.subList(0, flush.index())) {
            if (earlier.kind() != Kind.READ && earlier.kind() != Kind.FLUSH) {
              assertThat(served).as("change #%d before flush #%d", earlier.index(), flush.index())
                  .contains(earlier.index());
            }
          }
          served.add(flush.index());
        }
        continue;
      }
      if (m.kind() == Kind.READ) {
        byte[] whole = Arrays.copyOfRange(actual, (int) m.offset(), (int) m.end());
        for (Request part : m.parts()) {
          int from = (int) (part.offset() - m.offset());
          actualReads.put(part.index(), Arrays.copyOfRange(whole, from, from + (int) part.length()));
          served.add(part.index());
        }
        continue;
      }
      // A merged change is one operation over its whole range, built from its parts in order.
      byte[] merged = new byte[(int) m.length()];
      long cursor = m.offset();
      for (Request part : m.parts()) {
        assertThat(part.offset()).as("merged changes are contiguous").isEqualTo(cursor);
        System.arraycopy(payloads.get(part.index()), 0, merged, (int) (part.offset() - m.offset()), (int) part.length());
        cursor = part.end();
        served.add(part.index());
      }
      apply(actual, m.kind(), m.offset(), m.length(), merged, actualReads, -1);
    }

    assertThat(served).containsExactlyInAnyOrderElementsOf(requests.stream().map(Request::index).toList());
    assertThat(actual).isEqualTo(expected);
    for (Map.Entry<Integer, byte[]> read : expectedReads.entrySet()) {
      assertThat(actualReads.get(read.getKey())).as("read #%d", read.getKey()).isEqualTo(read.getValue());
    }
  }

  private static void apply(byte[] volume, Kind kind, long offset, long length, byte[] payload,
      Map<Integer, byte[]> reads, int index) {
    int from = (int) offset;
    int to = (int) (offset + length);
    switch (kind) {
      case WRITE -> System.arraycopy(payload, 0, volume, from, to - from);
      case TRIM, ZERO -> Arrays.fill(volume, from, to, (byte) 0);
      case READ -> reads.put(index, Arrays.copyOfRange(volume, from, to));
      case FLUSH -> { }
    }
  }

  @Test
  void adjacentWritesBecomeOneAndOverlappingWritesKeepTheirOrder() {
    RequestMerger merger = new RequestMerger(1 << 20);
    List<Merged> plan = merger.plan(List.of(
        new Request(0, Kind.WRITE, 8192, 4096),
        new Request(1, Kind.WRITE, 0, 4096),
        new Request(2, Kind.WRITE, 4096, 4096),
        new Request(3, Kind.WRITE, 2048, 4096)));
    assertThat(plan).hasSize(2);
    assertThat(plan.get(0).offset()).isZero();
    assertThat(plan.get(0).length()).isEqualTo(12288);
    assertThat(plan.get(0).parts()).extracting(Request::index).containsExactly(1, 2, 0);
    assertThat(plan.get(1).parts()).extracting(Request::index).containsExactly(3);
  }

  @Test
  void flushesOneAfterTheOtherAreOneFlush() {
    List<Merged> plan = new RequestMerger(1 << 20).plan(List.of(
        new Request(0, Kind.FLUSH, 0, 0),
        new Request(1, Kind.FLUSH, 0, 0),
        new Request(2, Kind.WRITE, 0, 4096),
        new Request(3, Kind.FLUSH, 0, 0),
        new Request(4, Kind.FLUSH, 0, 0),
        new Request(5, Kind.FLUSH, 0, 0)));
    assertThat(plan).extracting(Merged::kind).containsExactly(Kind.FLUSH, Kind.WRITE, Kind.FLUSH);
    assertThat(plan.get(0).parts()).extracting(Request::index).containsExactly(0, 1);
    assertThat(plan.get(2).parts()).extracting(Request::index).containsExactly(3, 4, 5);
  }

  @Test
  void aFlushIsABarrier() {
    List<Merged> plan = new RequestMerger(1 << 20).plan(List.of(
        new Request(0, Kind.WRITE, 4096, 4096),
        new Request(1, Kind.FLUSH, 0, 0),
        new Request(2, Kind.WRITE, 0, 4096)));
    assertThat(plan).extracting(Merged::kind).containsExactly(Kind.WRITE, Kind.FLUSH, Kind.WRITE);
  }
}
