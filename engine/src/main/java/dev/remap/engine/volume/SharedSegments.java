package dev.remap.engine.volume;

import dev.remap.engine.core.MappingCodec;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which of one volume's segments something besides the volume itself references: a snapshot
 * (of this volume or of a clone of it) or another volume's checkpoint (a clone whose snapshot was
 * deleted). The cleaner never chooses such a segment: its bytes stay in the store as long as
 * that reference does, so copying the volume's live part of it would only store it twice.
 *
 * <p>Snapshots are listed before checkpoints. A clone's first checkpoint is written while its
 * snapshot exists (the clone reads it), so a snapshot deleted before our snapshot listing had its
 * clone's checkpoint in place before our checkpoint listing; either way the reference is seen.
 * A snapshot taken after the listing is taken by this volume's owner, of the table the cleaner
 * itself moves, and its manifest is written before the uploader (which runs the cleaner) goes on,
 * so it cannot reference a segment the cleaner has already emptied. Being wrong
 * the other way (a reference missed) would cost space, never data: garbage collection, not the
 * cleaner, decides what is deleted, from every reference in the store.
 *
 * <p>Manifests and checkpoints never change once written, so what each one references is read
 * once and kept while it is listed. Used by the volume's uploader thread only.
 */
final class SharedSegments {

  private final ObjectStore store;
  private final String volumeId;
  private final String ownPrefix;
  private final Map<String, Set<String>> referencesByObject = new HashMap<>();

  SharedSegments(ObjectStore store, String volumeId) {
    this.store = store;
    this.volumeId = volumeId;
    this.ownPrefix = StoreLayout.segmentPrefix(volumeId);
  }

  /** The volume's segment keys that another manifest or checkpoint references now. */
  Set<String> pinned() throws IOException {
    Set<String> listed = new HashSet<>();
    Set<String> pinned = new HashSet<>();
    for (ObjectInfo snapshot : store.list(StoreLayout.SNAPSHOTS)) {
      listed.add(snapshot.key());
      pinned.addAll(references(snapshot.key()));
    }
    for (ObjectInfo checkpoint : store.list(StoreLayout.CHECKPOINTS)) {
      if (!checkpoint.key().startsWith(StoreLayout.checkpointPrefix(volumeId))) {
        listed.add(checkpoint.key());
        pinned.addAll(references(checkpoint.key()));
      }
    }
    referencesByObject.keySet().retainAll(listed);
    return pinned;
  }

  private Set<String> references(String key) throws IOException {
    Set<String> known = referencesByObject.get(key);
    if (known != null) {
      return known;
    }
    Set<String> own = new HashSet<>();
    try {
      for (String referenced : MappingCodec.referencedKeys(ByteBuffer.wrap(store.get(key)), key)) {
        if (referenced.startsWith(ownPrefix)) {
          own.add(referenced);
        }
      }
    } catch (NoSuchObjectException deletedMeanwhile) {
      // Gone since the listing: it references nothing any more.
    }
    referencesByObject.put(key, own);
    return own;
  }
}
