package dev.remap.engine.core;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * The persisted form of a mapping table (checkpoints, snapshot manifests, exports). Pure.
 *
 * <pre>
 * "RMM1" u32 version=1
 * u64 size, u32 blockSize, u32 chunkSize
 * u64 segmentSeq (last segment applied), u64 journalSeq (last journal record included)
 * u32 keyCount, keyCount x (u16 length, UTF-8 bytes)
 * u32 chunkCount (non-empty chunks only), chunkCount x
 *     (u64 index, u64 generation, u32 spanCount, spanCount x
 *         (u32 offset, u32 length, u8 kind 0=zero 1=stored, [u32 keyIndex, u64 objectOffset]))
 * u32 CRC-32C of everything before it
 * </pre>
 * Only store references may be encoded: a table that still points into a local journal is not
 * a state another process could read, and encoding it is refused.
 */
public final class MappingCodec {

  private static final int MAGIC = 0x524d4d31; // "RMM1"
  private static final int VERSION = 1;

  /** A decoded table and the sequence numbers it covers. */
  public record Decoded(MappingTable table, long segmentSeq, long journalSeq) {}

  private MappingCodec() {}

  /**
   * The table as persisted. It must reference the store only: a range still in a local journal
   * ({@link Source.Journaled}) is refused, since no other process could read it.
   */
  public static byte[] encode(MappingTable table, long segmentSeq, long journalSeq) {
    Geometry g = table.geometry();
    // One pass to number the keys, count each chunk's spans and size the result, one to write it
    // into an array of exactly that size: a checkpoint of a volume cut into 4 KiB spans by random
    // writes has millions of spans, and a stream of synchronized single-byte writes was most of
    // the time it took. Both walk the spans without an object per span (ChunkRef.forEachSpan).
    Numbering numbering = new Numbering();
    for (long i = 0; i < g.chunkCount(); i++) {
      ChunkRef chunk = table.chunk(i);
      if (!chunk.isEmpty()) {
        numbering.chunk(i, chunk);
      }
    }
    long size = 4 + 4 + 8 + 4 + 4 + 8 + 8 + 4 + 4 + 4 + numbering.bytes;
    for (byte[] key : numbering.keyBytes) {
      size += 2 + key.length;
    }
    byte[] bytes = new byte[Math.toIntExact(size)];
    ByteBuffer out = ByteBuffer.wrap(bytes);
    out.putInt(MAGIC).putInt(VERSION).putLong(g.size()).putInt(g.blockSize()).putInt(g.chunkSize())
        .putLong(segmentSeq).putLong(journalSeq).putInt(numbering.keyBytes.size());
    for (byte[] key : numbering.keyBytes) {
      out.putShort((short) key.length).put(key);
    }
    out.putInt(numbering.chunks);
    Writing writing = new Writing(out, numbering.spanKeys);
    int c = 0;
    for (long i = 0; i < g.chunkCount(); i++) {
      ChunkRef chunk = table.chunk(i);
      if (chunk.isEmpty()) {
        continue;
      }
      out.putLong(i).putLong(chunk.generation()).putInt(numbering.chunkSpans[c++]);
      chunk.forEachSpan(writing);
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, out.position());
    out.putInt((int) crc.getValue());
    return bytes;
  }

  /** Encode's first pass: numbers the keys in order of first use and counts what the second writes. */
  private static final class Numbering implements ChunkRef.SpanSink {
    final Map<String, Integer> keys = new HashMap<>();
    final List<byte[]> keyBytes = new ArrayList<>();
    /** Each span's key number, -1 for zeros, in the order written. */
    int[] spanKeys = new int[64];
    int spans;
    /** Each non-empty chunk's span count, in the order written. */
    int[] chunkSpans = new int[16];
    int chunks;
    /** What the chunks and their spans take, encoded. */
    long bytes;
    private long chunk;
    private String lastKey;
    private int lastIndex = -1;

    void chunk(long index, ChunkRef ref) {
      chunk = index;
      int before = spans;
      bytes += 8 + 8 + 4;
      ref.forEachSpan(this);
      if (chunks == chunkSpans.length) {
        chunkSpans = Arrays.copyOf(chunkSpans, chunks * 2);
      }
      chunkSpans[chunks++] = spans - before;
    }

    @Override
    public void accept(long offset, long length, ChunkRef.Kind kind, String object, long objectOffset) {
      if (kind == ChunkRef.Kind.JOURNALED) {
        throw new IllegalStateException("chunk " + chunk + " still maps to the local "
            + new Source.Journaled(object, objectOffset));
      }
      int index = -1;
      bytes += 4 + 4 + 1;
      if (kind == ChunkRef.Kind.STORED) {
        // Neighbouring spans mostly come from one segment, whose key is one String instance.
        if (object != lastKey) {
          lastIndex = keys.computeIfAbsent(object, k -> {
            keyBytes.add(k.getBytes(StandardCharsets.UTF_8));
            return keyBytes.size() - 1;
          });
          lastKey = object;
        }
        index = lastIndex;
        bytes += 4 + 8;
      }
      if (spans == spanKeys.length) {
        spanKeys = Arrays.copyOf(spanKeys, spans * 2);
      }
      spanKeys[spans++] = index;
    }
  }

  /** Encode's second pass: each span as the first pass counted it. */
  private static final class Writing implements ChunkRef.SpanSink {
    private final ByteBuffer out;
    private final int[] spanKeys;
    private int next;

    Writing(ByteBuffer out, int[] spanKeys) {
      this.out = out;
      this.spanKeys = spanKeys;
    }

    @Override
    public void accept(long offset, long length, ChunkRef.Kind kind, String object, long objectOffset) {
      out.putInt((int) offset).putInt((int) length);
      int index = spanKeys[next++];
      if (index >= 0) {
        out.put((byte) 1).putInt(index).putLong(objectOffset);
      } else {
        out.put((byte) 0);
      }
    }
  }

  /** Decodes what {@link #encode} wrote; a damaged or foreign object is an IOException. */
  public static Decoded decode(ByteBuffer data, String what) throws IOException {
    DataInputStream in = checked(data, what);
    Geometry g = new Geometry(in.readLong(), in.readInt(), in.readInt());
    long segmentSeq = in.readLong();
    long journalSeq = in.readLong();
    String[] keys = keys(in);
    MappingTable table = new MappingTable(g);
    int chunks = in.readInt();
    List<Span> spans = new ArrayList<>();
    for (int c = 0; c < chunks; c++) {
      long index = in.readLong();
      long generation = in.readLong();
      int spanCount = in.readInt();
      spans.clear();
      for (int s = 0; s < spanCount; s++) {
        long offset = Integer.toUnsignedLong(in.readInt());
        long length = Integer.toUnsignedLong(in.readInt());
        Source source = in.readByte() == 1 ? new Source.Stored(keys[in.readInt()], in.readLong()) : Source.Zero.INSTANCE;
        spans.add(new Span(offset, length, source));
      }
      // Encoded spans are sorted and apart: one pass builds the chunk (not a put, and a copy of
      // a leaf, per span: a checkpoint of a randomly written volume has millions of them).
      try {
        table.setChunk(index, ChunkRef.EMPTY.putAll(spans).withGeneration(generation));
      } catch (IllegalArgumentException e) {
        // Only a mapping no build writes gets here (its checksum was right): still named as damaged.
        throw new IOException(what + " is damaged (chunk " + index + ": " + e.getMessage() + ")");
      }
    }
    return new Decoded(table, segmentSeq, journalSeq);
  }

  /**
   * The store objects an encoded table references, read from its key list alone: what the
   * cleaner asks of every other volume's checkpoint and every snapshot manifest, every time it
   * measures, without building their tables. Checked as {@link #decode} checks.
   */
  public static Set<String> referencedKeys(ByteBuffer data, String what) throws IOException {
    DataInputStream in = checked(data, what);
    in.skipBytes(8 + 4 + 4 + 8 + 8);
    return new HashSet<>(Arrays.asList(keys(in)));
  }

  /** The body after magic and version, once the checksum and those two are verified. */
  private static DataInputStream checked(ByteBuffer data, String what) throws IOException {
    byte[] bytes = new byte[data.remaining()];
    data.duplicate().get(bytes);
    if (bytes.length < 8) {
      throw new IOException(what + " is not a Remap mapping (too short)");
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length - 4);
    int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
    if ((int) crc.getValue() != stored) {
      throw new IOException(what + " is damaged (checksum mismatch)");
    }
    DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes, 0, bytes.length - 4));
    if (in.readInt() != MAGIC || in.readInt() != VERSION) {
      throw new IOException(what + " is not a Remap mapping of a version this build reads");
    }
    return in;
  }

  private static String[] keys(DataInputStream in) throws IOException {
    String[] keys = new String[in.readInt()];
    for (int k = 0; k < keys.length; k++) {
      byte[] utf8 = new byte[in.readUnsignedShort()];
      in.readFully(utf8);
      keys[k] = new String(utf8, StandardCharsets.UTF_8);
    }
    return keys;
  }
}
