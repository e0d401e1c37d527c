package dev.remap.engine.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.ToLongFunction;

/**
 * The mapping partition of a volume: chunk index to {@link ChunkRef}. Every read resolves
 * through it and every write moves it; nothing here copies data.
 *
 * <p>Not thread-safe: the owning volume guards it with its lock, but for {@link
 * #prepareRelocations}, which may run beside changes made under that lock. {@link #copy()} costs one
 * pointer per chunk because chunk references are immutable; that is all a snapshot or a clone
 * of the mapping costs.
 */
public final class MappingTable {

  private Geometry geometry;
  private ChunkRef[] chunks;

  public MappingTable(Geometry geometry) {
    this.geometry = geometry;
    this.chunks = new ChunkRef[Math.toIntExact(geometry.chunkCount())];
    Arrays.fill(chunks, ChunkRef.EMPTY);
  }

  private MappingTable(Geometry geometry, ChunkRef[] chunks) {
    this.geometry = geometry;
    this.chunks = chunks;
  }

  public Geometry geometry() {
    return geometry;
  }

  public ChunkRef chunk(long index) {
    return chunks[Math.toIntExact(index)];
  }

  /** Replaces one chunk's reference (loading a persisted table). */
  public void setChunk(long index, ChunkRef ref) {
    chunks[Math.toIntExact(index)] = ref;
  }

  /** Maps [offset, offset+length) of the volume to source (a hole unmaps it). */
  public void put(long offset, long length, Source source) {
    forEachChunk(offset, length, (index, chunkOffset, partLength, delta) ->
        chunks[index] = chunks[index].put(chunkOffset, partLength, source.advance(delta)));
  }

  /** Moves what still maps to from (byte for byte) to to; see {@link ChunkRef#relocate}. */
  public void relocate(long offset, long length, Source from, Source.Stored to) {
    forEachChunk(offset, length, (index, chunkOffset, partLength, delta) ->
        chunks[index] = chunks[index].relocate(
            chunkOffset, partLength, from.advance(delta), (Source.Stored) to.advance(delta)));
  }

  /**
   * Moves [offset, offset+length) from {@code from} to {@code to} where it still maps to from,
   * byte for byte (see {@link ChunkRef#relocate}); offsets are the volume's, or the chunk's when
   * given to {@link ChunkRef#relocateAll}.
   */
  public record Relocation(long offset, long length, Source from, Source.Stored to) {
    public Relocation {
      if (offset < 0 || length <= 0) {
        throw new IllegalArgumentException("bad relocation offset=" + offset + " length=" + length);
      }
    }

    public long end() {
      return offset + length;
    }
  }

  /**
   * The same as {@link #put} for each span in order (a later span wins where they overlap), with
   * one copy of each chunk it touches rather than one per span: how a segment's entries are
   * applied.
   */
  public void putAll(List<Span> changes) {
    // Puts that overlap within a chunk (several segments' changes applied at once, a trim and a
    // later write in one segment) are cut to what each last put covers: still one pass.
    ChunkBatches<Span> batches = new ChunkBatches<>(Span::offset, Span::end, ChunkRef::putAll,
        (chunk, inOrder) -> chunk.putAll(Coverage.latestWins(inOrder)).withGeneration(chunk.generation() + inOrder.size()),
        tableAccess);
    for (Span change : changes) {
      forEachChunk(change.offset(), change.length(), (index, chunkOffset, partLength, delta) ->
          batches.add(index, new Span(chunkOffset, partLength, change.source().advance(delta))));
    }
    batches.flush();
  }

  /**
   * The same as {@link #relocate} for each move in order, with one copy of each chunk it touches
   * rather than one per move: how an upload moves thousands of journaled writes to their segment.
   */
  public void relocateAll(List<Relocation> moves) {
    relocateAll(moves, tableAccess);
  }

  private void relocateAll(List<Relocation> moves, ChunkAccess access) {
    ChunkBatches<Relocation> batches =
        new ChunkBatches<>(Relocation::offset, Relocation::end, ChunkRef::relocateAll, null, access);
    for (Relocation move : moves) {
      forEachChunk(move.offset(), move.length(), (index, chunkOffset, partLength, delta) ->
          batches.add(index, new Relocation(chunkOffset, partLength, move.from().advance(delta),
              (Source.Stored) move.to().advance(delta))));
    }
    batches.flush();
  }

  /**
   * {@link #relocateAll} worked out by {@link #prepareRelocations} without the owner's lock, for
   * {@link #install} under it: the chunks each result was computed from, and the results.
   */
  public static final class PreparedRelocations {
    private final List<Relocation> moves;
    private final Map<Integer, ChunkRef> bases = new HashMap<>();
    private final Map<Integer, ChunkRef> results = new HashMap<>();

    private PreparedRelocations(List<Relocation> moves) {
      this.moves = moves;
    }
  }

  /**
   * Works out {@link #relocateAll} of moves on the chunks as they are now, changing nothing. The
   * only call that may run while another thread changes this table (under the owner's lock): it
   * reads chunk references without that lock, which is safe because they are immutable, and may
   * read some that are already stale; {@link #install} checks each one.
   */
  public PreparedRelocations prepareRelocations(List<Relocation> moves) {
    PreparedRelocations prepared = new PreparedRelocations(moves);
    ChunkRef[] seen = chunks;
    relocateAll(moves, new ChunkAccess() {
      @Override
      public ChunkRef get(int index) {
        ChunkRef result = prepared.results.get(index);
        return result != null ? result : prepared.bases.computeIfAbsent(index, i -> seen[i]);
      }

      @Override
      public void set(int index, ChunkRef ref) {
        prepared.results.put(index, ref);
      }
    });
    return prepared;
  }

  /**
   * Applies prepared relocations, as {@link #relocateAll} of their moves would now. A chunk still
   * the one its result was computed from takes the result; the moves of a chunk changed since
   * (a write to it, most often) are applied again to what it holds now. Relocating twice changes
   * nothing the first time moved (nothing maps to the moved-from source any more), so a move
   * across several chunks is simply applied again whole.
   */
  public void install(PreparedRelocations prepared) {
    Set<Integer> changed = new HashSet<>();
    prepared.results.forEach((index, result) -> {
      if (index < chunks.length && chunks[index] == prepared.bases.get(index)) {
        chunks[index] = result;
      } else {
        changed.add(index);
      }
    });
    if (changed.isEmpty()) {
      return;
    }
    List<Relocation> again = new ArrayList<>();
    for (Relocation move : prepared.moves) {
      long first = geometry.chunkIndex(move.offset());
      long last = geometry.chunkIndex(move.end() - 1);
      for (long index = first; index <= last; index++) {
        if (changed.contains((int) index)) {
          again.add(move);
          break;
        }
      }
    }
    relocateAll(again);
  }

  /** Where a batch of changes reads and writes chunk references: the table, or a prepared relocation's copies. */
  private interface ChunkAccess {
    ChunkRef get(int index);

    void set(int index, ChunkRef ref);
  }

  private final ChunkAccess tableAccess = new ChunkAccess() {
    @Override
    public ChunkRef get(int index) {
      return chunks[index];
    }

    @Override
    public void set(int index, ChunkRef ref) {
      chunks[index] = ref;
    }
  };

  /**
   * Chunk-relative changes gathered per chunk and applied to each chunk in one call, sorted by
   * offset. Changes to ranges apart commute (each changes only its own range), so only the order
   * of overlapping ones matters. The usual case, no overlap within a chunk, is one stable sort; a
   * chunk with overlapping changes is handed to {@code overlapping} in the caller's order when
   * there is one (puts: the later wins), or takes them in that order, applying what it gathered
   * whenever the next change overlaps it, which keeps every overlapping pair in order.
   */
  private final class ChunkBatches<T> {
    private record Part<T>(int chunk, int order, long start, long end, T change) {}

    private final ToLongFunction<T> start;
    private final ToLongFunction<T> end;
    private final BiFunction<ChunkRef, List<T>, ChunkRef> apply;
    private final BiFunction<ChunkRef, List<T>, ChunkRef> overlapping;
    private final ChunkAccess access;
    private final List<Part<T>> parts = new ArrayList<>();

    ChunkBatches(ToLongFunction<T> start, ToLongFunction<T> end, BiFunction<ChunkRef, List<T>, ChunkRef> apply,
        BiFunction<ChunkRef, List<T>, ChunkRef> overlapping, ChunkAccess access) {
      this.start = start;
      this.end = end;
      this.apply = apply;
      this.overlapping = overlapping;
      this.access = access;
    }

    void add(int index, T change) {
      parts.add(new Part<>(index, parts.size(), start.applyAsLong(change), end.applyAsLong(change), change));
    }

    void flush() {
      parts.sort(Comparator.comparingInt((Part<T> p) -> p.chunk()).thenComparingLong(Part::start));
      int from = 0;
      while (from < parts.size()) {
        int chunk = parts.get(from).chunk();
        int to = from + 1;
        boolean apart = true;
        while (to < parts.size() && parts.get(to).chunk() == chunk) {
          apart &= parts.get(to - 1).end() <= parts.get(to).start();
          to++;
        }
        List<Part<T>> group = parts.subList(from, to);
        if (apart) {
          applyTo(chunk, group);
        } else if (overlapping != null) {
          List<Part<T>> inOrder = new ArrayList<>(group);
          inOrder.sort(Comparator.comparingInt(Part::order));
          List<T> changes = new ArrayList<>(inOrder.size());
          inOrder.forEach(part -> changes.add(part.change()));
          access.set(chunk, overlapping.apply(access.get(chunk), changes));
        } else {
          applyInOrder(chunk, new ArrayList<>(group));
        }
        from = to;
      }
      parts.clear();
    }

    private void applyInOrder(int chunk, List<Part<T>> group) {
      group.sort(Comparator.comparingInt(Part::order));
      TreeMap<Long, Part<T>> gathered = new TreeMap<>();
      for (Part<T> part : group) {
        Map.Entry<Long, Part<T>> before = gathered.floorEntry(part.start());
        Map.Entry<Long, Part<T>> after = gathered.ceilingEntry(part.start());
        if ((before != null && before.getValue().end() > part.start())
            || (after != null && after.getKey() < part.end())) {
          applyTo(chunk, gathered.values());
          gathered.clear();
        }
        gathered.put(part.start(), part);
      }
      applyTo(chunk, gathered.values());
    }

    private void applyTo(int chunk, Collection<Part<T>> sorted) {
      List<T> changes = new ArrayList<>(sorted.size());
      for (Part<T> part : sorted) {
        changes.add(part.change());
      }
      access.set(chunk, apply.apply(access.get(chunk), changes));
    }
  }


  /** Spans in volume offsets covering [offset, offset+length) exactly, holes included. */
  public List<Span> resolve(long offset, long length) {
    List<Span> out = new ArrayList<>();
    forEachChunk(offset, length, (index, chunkOffset, partLength, delta) -> {
      long base = geometry.chunkStart(index);
      for (Span span : chunks[index].resolve(chunkOffset, partLength)) {
        Span moved = new Span(base + span.offset(), span.length(), span.source());
        if (!out.isEmpty() && joins(out.get(out.size() - 1), moved)) {
          Span last = out.remove(out.size() - 1);
          out.add(new Span(last.offset(), last.length() + moved.length(), last.source()));
        } else {
          out.add(moved);
        }
      }
    });
    return out;
  }

  /** A table that shares every chunk reference with this one and changes independently. */
  public MappingTable copy() {
    return new MappingTable(geometry, chunks.clone());
  }

  /**
   * Makes this table the same as other (sharing its immutable chunk references): a volume that
   * takes its ownership back loads what the other owner left in the store into the tables its
   * readers and uploader already hold.
   */
  public void assign(MappingTable other) {
    geometry = other.geometry;
    chunks = other.chunks.clone();
  }

  /** Grows the volume; the new tail is a hole. */
  public void resize(long newSize) {
    Geometry grown = geometry.resize(newSize);
    int count = Math.toIntExact(grown.chunkCount());
    if (count > chunks.length) {
      ChunkRef[] bigger = Arrays.copyOf(chunks, count);
      Arrays.fill(bigger, chunks.length, count, ChunkRef.EMPTY);
      chunks = bigger;
    }
    geometry = grown;
  }

  /** Every object key this table references (what garbage collection must keep). */
  public Set<String> referencedKeys() {
    Set<String> keys = new HashSet<>();
    for (ChunkRef chunk : chunks) {
      chunk.forEachStored((key, length) -> keys.add(key));
    }
    return keys;
  }

  private static boolean joins(Span previous, Span next) {
    if (previous.end() != next.offset()) {
      return false;
    }
    if (previous.source() instanceof Source.Stored || previous.source() instanceof Source.Journaled) {
      return Source.continuous(previous.source(), previous.length(), next.source());
    }
    return previous.source() == next.source();
  }

  @FunctionalInterface
  private interface ChunkPart {
    void accept(int index, long chunkOffset, long length, long deltaFromStart);
  }

  private void forEachChunk(long offset, long length, ChunkPart part) {
    if (offset < 0 || length <= 0 || offset + length > geometry.size()) {
      throw new IllegalArgumentException("range offset=" + offset + " length=" + length
          + " is outside the volume of size " + geometry.size());
    }
    long cursor = offset;
    long end = offset + length;
    while (cursor < end) {
      long index = geometry.chunkIndex(cursor);
      long chunkOffset = cursor - geometry.chunkStart(index);
      long partLength = Math.min(end - cursor, geometry.chunkSize() - chunkOffset);
      part.accept(Math.toIntExact(index), chunkOffset, partLength, cursor - offset);
      cursor += partLength;
    }
  }
}
