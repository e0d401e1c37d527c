package dev.remap.cli;

import dev.remap.engine.core.ChunkRef;
import dev.remap.engine.core.MappingCodec;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.SnapshotTransfer;
import dev.remap.engine.volume.StoreLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * What the export and import commands need to know before they copy: a snapshot's mapping, how
 * many bytes a copy moves, and whether a target already holds the export a run would write.
 *
 * <p>"The same export" is decided by content, not by name: an export of volume@snapshot writes
 * its objects as {@code objects/N.seg} (N in the sorted order of the snapshot's object keys)
 * and then a manifest that is the snapshot's mapping pointed at those copies, so the manifest a
 * complete earlier run wrote is byte for byte the one this run would write, and its objects
 * have the sizes of the originals. A snapshot deleted and made again under the same name maps
 * other objects and is therefore a different export. This mirrors SnapshotTransfer's layout:
 * if that layout changes, an old export is seen as different (refused), never as the same.
 */
final class ExportManifests {

  private ExportManifests() {}

  static MappingTable snapshot(ObjectStore store, String volume, String snapshot) throws IOException {
    String key = StoreLayout.snapshot(StoreLayout.requireName("volume", volume), StoreLayout.requireName("snapshot", snapshot));
    try {
      return MappingCodec.decode(ByteBuffer.wrap(store.get(key)), key).table();
    } catch (NoSuchObjectException e) {
      throw new IllegalStateException("snapshot " + volume + "@" + snapshot + " does not exist in " + store.describe());
    }
  }

  /** The export's mapping in from, or a clear error when there is none. */
  static MappingTable export(ObjectStore from) throws IOException {
    try {
      return MappingCodec.decode(ByteBuffer.wrap(from.get(SnapshotTransfer.MANIFEST)),
          from.describe() + "/" + SnapshotTransfer.MANIFEST).table();
    } catch (NoSuchObjectException e) {
      throw new IllegalStateException("there is no export in " + from.describe() + " (no " + SnapshotTransfer.MANIFEST + ")");
    }
  }

  /**
   * The total size of the objects keys names in store, listed once per folder (one LIST per
   * segment folder instead of a HEAD per object).
   */
  static long totalBytes(ObjectStore store, Collection<String> keys) throws IOException {
    Map<String, Long> sizes = sizes(store, keys);
    long total = 0;
    for (String key : keys) {
      Long size = sizes.get(key);
      if (size == null) {
        throw new IllegalStateException("object " + key + " is missing from " + store.describe() + ": the store is damaged");
      }
      total += size;
    }
    return total;
  }

  /** Whether target holds, complete, the export of table that SnapshotTransfer.export writes. */
  static boolean holdsSameExport(ObjectStore source, MappingTable table, ObjectStore target) throws IOException {
    byte[] written;
    try {
      written = target.get(SnapshotTransfer.MANIFEST);
    } catch (NoSuchObjectException e) {
      return false;
    }
    Map<String, String> renamed = new HashMap<>();
    for (String key : new TreeSet<>(table.referencedKeys())) {
      renamed.put(key, "objects/" + renamed.size() + ".seg");
    }
    if (!Arrays.equals(written, MappingCodec.encode(rewrite(table, renamed), 0, 0))) {
      return false;
    }
    Map<String, Long> originals = sizes(source, renamed.keySet());
    Map<String, Long> copies = sizes(target, renamed.values());
    return renamed.entrySet().stream().allMatch(e -> originals.get(e.getKey()) != null
        && originals.get(e.getKey()).equals(copies.get(e.getValue())));
  }

  /** A copy of table whose stored spans point at renamed keys (SnapshotTransfer's rewrite). */
  private static MappingTable rewrite(MappingTable table, Map<String, String> renamed) {
    MappingTable copy = table.copy();
    for (long i = 0; i < copy.geometry().chunkCount(); i++) {
      ChunkRef ref = copy.chunk(i);
      ChunkRef rewritten = ChunkRef.EMPTY;
      for (Span span : ref.spans()) {
        Source source = span.source() instanceof Source.Stored s ? new Source.Stored(renamed.get(s.key()), s.offset())
            : span.source();
        rewritten = rewritten.put(span.offset(), span.length(), source);
      }
      copy.setChunk(i, rewritten.withGeneration(ref.generation()));
    }
    return copy;
  }

  private static Map<String, Long> sizes(ObjectStore store, Collection<String> keys) throws IOException {
    Map<String, Long> sizes = new HashMap<>();
    for (String folder : new TreeSet<>(keys.stream().map(k -> k.substring(0, k.lastIndexOf('/') + 1)).toList())) {
      for (ObjectInfo info : store.list(folder)) {
        sizes.put(info.key(), info.size());
      }
    }
    return sizes;
  }
}
