package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class CodecProperties {

  private static final int CHUNK = Geometry.MIN_CHUNK_SIZE;

  @Property(tries = 200)
  void aMappingDecodesToTheSameSpans(@ForAll long seed, @ForAll @IntRange(min = 1, max = 600) int writes) throws Exception {
    Random random = new Random(seed);
    MappingTable table = new MappingTable(new Geometry(8L * CHUNK, 512, CHUNK));
    for (int i = 0; i < writes; i++) {
      long offset = random.nextInt(8 * CHUNK - 1);
      // Mostly small writes, so that chunks are cut into more spans than a leaf holds.
      long length = 1 + random.nextInt((int) Math.min(random.nextInt(4) == 0 ? 2L * CHUNK : 4096, 8L * CHUNK - offset));
      Source source = switch (random.nextInt(4)) {
        case 0 -> Source.Hole.INSTANCE;
        case 1 -> Source.Zero.INSTANCE;
        default -> new Source.Stored("segments/v/" + random.nextInt(5), random.nextInt(1 << 20));
      };
      table.put(offset, length, source);
    }
    byte[] encoded = MappingCodec.encode(table, 17, 42);
    MappingCodec.Decoded decoded = MappingCodec.decode(ByteBuffer.wrap(encoded), "test");
    assertThat(decoded.segmentSeq()).isEqualTo(17);
    assertThat(decoded.journalSeq()).isEqualTo(42);
    assertThat(decoded.table().geometry()).isEqualTo(table.geometry());
    assertThat(decoded.table().resolve(0, 8L * CHUNK)).isEqualTo(table.resolve(0, 8L * CHUNK));
    assertThat(MappingCodec.referencedKeys(ByteBuffer.wrap(encoded), "test"))
        .as("the objects referenced, from the key list alone").isEqualTo(table.referencedKeys());
    for (long c = 0; c < 8; c++) {
      assertThat(decoded.table().chunk(c).spans()).as("chunk %d's spans", c).isEqualTo(table.chunk(c).spans());
      // Empty chunks are not persisted; the generation of a chunk with data is.
      if (!table.chunk(c).isEmpty()) {
        assertThat(decoded.table().chunk(c).generation()).isEqualTo(table.chunk(c).generation());
      }
    }
    // Any flipped byte is detected.
    int at = random.nextInt(encoded.length);
    encoded[at] ^= (byte) (1 + random.nextInt(255));
    assertThatThrownBy(() -> MappingCodec.decode(ByteBuffer.wrap(encoded), "checkpoint x"))
        .hasMessageContaining("checkpoint x");
    assertThatThrownBy(() -> MappingCodec.referencedKeys(ByteBuffer.wrap(encoded), "checkpoint y"))
        .hasMessageContaining("checkpoint y");
  }

  @Test
  void aChecksumValidMappingWithOverlappingSpansIsDamaged() {
    // No build writes one; a foreign or buggy writer could: named as damaged, not a crash.
    ByteBuffer body = ByteBuffer.allocate(4 + 4 + 8 + 4 + 4 + 8 + 8 + 4 + 4 + 8 + 8 + 4 + 2 * 9);
    body.putInt(0x524d4d31).putInt(1).putLong(CHUNK).putInt(512).putInt(CHUNK).putLong(0).putLong(0)
        .putInt(0) // no keys
        .putInt(1).putLong(0).putLong(1).putInt(2) // chunk 0, generation 1, two spans
        .putInt(0).putInt(4096).put((byte) 0)
        .putInt(512).putInt(4096).put((byte) 0); // overlaps the first
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(body.array(), 0, body.position());
    ByteBuffer encoded = ByteBuffer.allocate(body.position() + 4).put(body.array(), 0, body.position())
        .putInt((int) crc.getValue()).flip();
    assertThatThrownBy(() -> MappingCodec.decode(encoded, "checkpoint z"))
        .isInstanceOf(java.io.IOException.class).hasMessageContaining("checkpoint z is damaged");
  }

  @Test
  void aTableThatPointsIntoTheJournalIsNotPersisted() {
    MappingTable table = new MappingTable(new Geometry(CHUNK, 512, CHUNK));
    table.put(0, 512, new Source.Journaled("0001.wal", 32));
    assertThatThrownBy(() -> MappingCodec.encode(table, 0, 0)).hasMessageContaining("0001.wal");
  }

  @Property(tries = 100)
  void aSegmentReplaysToWhatWasWritten(@ForAll long seed) throws Exception {
    Random random = new Random(seed);
    List<SegmentFormat.Entry> entries = new ArrayList<>();
    List<ByteBuffer> payloads = new ArrayList<>();
    MappingTable expected = new MappingTable(new Geometry(4L * CHUNK, 512, CHUNK));
    byte[] model = new byte[4 * CHUNK];
    for (int i = 0; i < 1 + random.nextInt(30); i++) {
      int offset = random.nextInt(4 * CHUNK - 1);
      int length = 1 + random.nextInt(Math.min(CHUNK, 4 * CHUNK - offset));
      SegmentFormat.Kind kind = SegmentFormat.Kind.values()[random.nextInt(3)];
      entries.add(new SegmentFormat.Entry(kind, offset, length, 0));
      if (kind == SegmentFormat.Kind.DATA) {
        byte[] data = new byte[length];
        random.nextBytes(data);
        payloads.add(ByteBuffer.wrap(data));
        System.arraycopy(data, 0, model, offset, length);
      } else {
        java.util.Arrays.fill(model, offset, offset + length, (byte) 0);
      }
    }
    ByteBuffer segment = SegmentFormat.encode(9, 100, 130, entries, payloads);
    SegmentFormat.Header header = SegmentFormat.parse(segment, "segment 9");
    assertThat(header.seq()).isEqualTo(9);
    assertThat(header.lastJournalSeq()).isEqualTo(130);
    SegmentFormat.apply(header, "seg", expected);
    byte[] read = new byte[model.length];
    for (Span span : expected.resolve(0, model.length)) {
      if (span.source() instanceof Source.Stored s) {
        segment.duplicate().position((int) s.offset()).get(read, (int) span.offset(), (int) span.length());
      }
    }
    assertThat(java.util.Arrays.mismatch(read, model)).isEqualTo(-1);

    // Sealed in place, in direct memory, at an offset of a larger buffer (as the uploader
    // assembles a segment): the same bytes, the header parse reads, and the data verifies.
    int headerLength = SegmentFormat.headerLength(entries.size());
    ByteBuffer direct = ByteBuffer.allocateDirect(7 + segment.remaining() + 5);
    direct.position(7 + headerLength);
    payloads.forEach(p -> direct.put(p.duplicate()));
    direct.limit(direct.position()).position(7);
    SegmentFormat.Header sealed = SegmentFormat.seal(direct, 9, 100, 130, entries);
    assertThat(direct.position()).isEqualTo(7);
    assertThat(direct.slice()).isEqualTo(segment);
    assertThat(sealed).isEqualTo(header);
    assertThat(SegmentFormat.verify(direct.slice(), "sealed")).isEqualTo(header);
    assertThatThrownBy(() -> SegmentFormat.seal(direct.duplicate().limit(direct.limit() - 1), 9, 100, 130, entries))
        .as("data one byte short").isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * A segment that links to bytes of other objects (version 3): parsed back as sealed, verified,
   * and replayed to its own data and to the linked objects' bytes where each entry says; one byte
   * of data short is refused.
   */
  @Property(tries = 100)
  void aSegmentThatLinksReplaysToItsDataAndTheLinkedObjects(@ForAll long seed) throws Exception {
    Random random = new Random(seed);
    List<String> objects = new ArrayList<>();
    for (int i = 0; i < 1 + random.nextInt(3); i++) {
      objects.add("segments/volume-" + i + "/" + String.format("%016x", random.nextInt(1000)) + ".dat");
    }
    List<SegmentFormat.Entry> entries = new ArrayList<>();
    List<ByteBuffer> payloads = new ArrayList<>();
    List<Span> expected = new ArrayList<>();
    for (int i = 0; i < 1 + random.nextInt(30); i++) {
      long offset = random.nextInt(4 * CHUNK);
      long length = 1 + random.nextInt(CHUNK);
      int kind = random.nextInt(4);
      if (kind == 3) {
        int object = random.nextInt(objects.size());
        long at = 32 + random.nextInt(1 << 20);
        entries.add(SegmentFormat.Entry.linked(offset, length, object, at, random.nextInt()));
        expected.add(new Span(offset, length, new Source.Stored(objects.get(object), at)));
        continue;
      }
      SegmentFormat.Kind k = SegmentFormat.Kind.values()[kind];
      entries.add(new SegmentFormat.Entry(k, offset, length, 0));
      if (k == SegmentFormat.Kind.DATA) {
        byte[] data = new byte[(int) length];
        random.nextBytes(data);
        payloads.add(ByteBuffer.wrap(data));
      }
      expected.add(new Span(offset, length, Source.Hole.INSTANCE)); // its source is checked below
    }
    int headerLength = SegmentFormat.headerLength(entries.size(), objects);
    long dataLength = payloads.stream().mapToLong(ByteBuffer::remaining).sum();
    ByteBuffer segment = ByteBuffer.allocate(Math.toIntExact(headerLength + dataLength));
    segment.position(headerLength);
    payloads.forEach(p -> segment.put(p.duplicate()));
    segment.flip();
    SegmentFormat.Header sealed = SegmentFormat.seal(segment, 5, 40, 70, entries, objects);
    SegmentFormat.Header parsed = SegmentFormat.verify(segment, "segment 5");
    assertThat(parsed).isEqualTo(sealed);
    assertThat(parsed.objects()).isEqualTo(objects);
    List<Span> changes = SegmentFormat.changes(parsed, "seg");
    int payload = 0;
    for (int i = 0; i < changes.size(); i++) {
      Span change = changes.get(i);
      assertThat(change.offset()).isEqualTo(expected.get(i).offset());
      assertThat(change.length()).isEqualTo(expected.get(i).length());
      switch (entries.get(i).kind()) {
        case LINKED -> {
          assertThat(change.source()).isEqualTo(expected.get(i).source());
          assertThat(parsed.entries().get(i).crc()).isEqualTo(entries.get(i).crc());
        }
        case DATA -> {
          Source.Stored stored = (Source.Stored) change.source();
          assertThat(stored.key()).isEqualTo("seg");
          byte[] read = new byte[(int) change.length()];
          segment.duplicate().position((int) stored.offset()).get(read);
          assertThat(ByteBuffer.wrap(read)).isEqualTo(payloads.get(payload++));
        }
        case ZERO -> assertThat(change.source()).isEqualTo(Source.Zero.INSTANCE);
        case TRIM -> assertThat(change.source()).isEqualTo(Source.Hole.INSTANCE);
      }
    }
    assertThat(parsed.segmentLength()).as("the segment's length: linked bytes are not in it").isEqualTo(segment.remaining());
    if (dataLength > 0) {
      assertThatThrownBy(() -> SegmentFormat.verify(segment.duplicate().limit(segment.limit() - 1), "short"))
          .isInstanceOf(SegmentFormat.DamagedSegmentException.class);
    }
  }
}
