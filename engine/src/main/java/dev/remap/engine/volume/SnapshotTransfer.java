package dev.remap.engine.volume;

import dev.remap.engine.core.ChunkRef;
import dev.remap.engine.core.MappingCodec;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Export of a snapshot as a self-contained unit (a manifest and the objects it references) into
 * any store, and import of such a unit as a new volume. The objects are copied whole; the
 * manifest is rewritten to point at the copies.
 *
 * <pre>
 * export root:  manifest.map, objects/N.seg
 * imported:     imports/ID/N.seg, checkpoints/ID/0000000000000000.map, volumes/NAME.meta
 * </pre>
 */
public final class SnapshotTransfer {

  public static final String MANIFEST = "manifest.map";

  private SnapshotTransfer() {}

  /** Copies volume@snapshot from source into target (where nothing must be exported yet). */
  public static long export(VolumeManager source, String volume, String snapshot, ObjectStore target) throws IOException {
    MappingCodec.Decoded decoded = source.readSnapshot(StoreLayout.snapshot(
        StoreLayout.requireName("volume", volume), StoreLayout.requireName("snapshot", snapshot)));
    if (target.stat(MANIFEST).isPresent()) {
      throw new VolumeException("an export already exists in " + target.describe());
    }
    MappingTable table = decoded.table();
    long bytes = copyObjects(source.store(), table, target, "objects/");
    // The manifest last: an interrupted export has no manifest and cannot be imported half-done.
    byte[] manifest = MappingCodec.encode(table, 0, 0);
    if (!target.putIfAbsent(MANIFEST, ByteBuffer.wrap(manifest))) {
      throw new VolumeException("an export already exists in " + target.describe());
    }
    return bytes + manifest.length;
  }

  /** Turns the export in from into a new volume name of manager's store. */
  public static VolumeMeta importVolume(ObjectStore from, VolumeManager manager, String name) throws IOException {
    StoreLayout.requireName("volume", name);
    MappingCodec.Decoded decoded;
    try {
      decoded = MappingCodec.decode(ByteBuffer.wrap(from.get(MANIFEST)), from.describe() + "/" + MANIFEST);
    } catch (NoSuchObjectException e) {
      throw new VolumeException("there is no export in " + from.describe() + " (no " + MANIFEST + ")");
    }
    ObjectStore store = manager.store();
    if (store.stat(StoreLayout.meta(name)).isPresent()) {
      throw new VolumeException("volume " + name + " already exists in " + store.describe());
    }
    MappingTable table = decoded.table();
    String id = UUID.randomUUID().toString();
    copyObjects(from, table, store, StoreLayout.importPrefix(id));
    store.put(StoreLayout.checkpoint(id, 0), ByteBuffer.wrap(MappingCodec.encode(table, 0, 0)));
    VolumeMeta meta = new VolumeMeta(id, name, table.geometry(), Instant.now(), "import:" + from.describe());
    if (!store.putIfAbsent(StoreLayout.meta(name), meta.encode())) {
      throw new VolumeException("volume " + name + " already exists in " + store.describe());
    }
    return meta;
  }

  /** Copies every object table references into target under prefix and rewrites table to match. */
  private static long copyObjects(ObjectStore from, MappingTable table, ObjectStore target, String prefix)
      throws IOException {
    Map<String, String> renamed = new HashMap<>();
    long bytes = 0;
    for (String key : new TreeSet<>(table.referencedKeys())) {
      String copy = prefix + renamed.size() + ".seg";
      byte[] data = from.get(key);
      target.put(copy, ByteBuffer.wrap(data));
      renamed.put(key, copy);
      bytes += data.length;
    }
    for (long i = 0; i < table.geometry().chunkCount(); i++) {
      ChunkRef ref = table.chunk(i);
      ChunkRef rewritten = ChunkRef.EMPTY;
      for (Span span : ref.spans()) {
        Source source = span.source() instanceof Source.Stored s ? new Source.Stored(renamed.get(s.key()), s.offset()) : span.source();
        rewritten = rewritten.put(span.offset(), span.length(), source);
      }
      table.setChunk(i, rewritten.withGeneration(ref.generation()));
    }
    return bytes;
  }
}
