package dev.remap.engine.volume;

import dev.remap.engine.core.MappingCodec;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Removes data objects that no volume and no snapshot references. Safe while volumes are served:
 *
 * <ul>
 *   <li>a volume's roots are its newest checkpoint, what that checkpoint references, and every
 *       segment after it (the log a server may still be extending);
 *   <li>a served volume's mapping only ever references what its newest checkpoint references or
 *       segments after it, so nothing it reads is collected;
 *   <li>objects younger than the grace period are never collected, which covers objects being
 *       made right now (a clone's first checkpoint before its metadata, a segment in flight),
 *       except segments the owner of their volume, served by this process, knows are dead once
 *       unreferenced ({@code deadIfUnreferenced}, see {@link OwnGarbage});
 *   <li>nothing collected is needed after a power cut: a volume writes a checkpoint only after
 *       syncing every segment before it (segments may be written without fsync, see
 *       {@link SegmentWriter}), so what a newer checkpoint stops referencing (segments the cleaner
 *       emptied, older checkpoints) is replaced by durable objects; segments after the newest
 *       checkpoint, torn or not, stay roots until the volume's owner recovers them at open;
 *   <li>an import ({@code imports/ID/}) is referenced only once its copy is complete, which may
 *       take longer than the grace period: while any of its objects is young it may still be
 *       running, so none of them is collected.
 * </ul>
 */
public final class GarbageCollector {

  /** What a run did. */
  public record Report(int examined, int deleted, long deletedBytes, int kept) {}

  private final ObjectStore store;
  private final Duration grace;
  private final Predicate<String> deadIfUnreferenced;

  public GarbageCollector(ObjectStore store, Duration grace) {
    this(store, grace, key -> false);
  }

  /** deadIfUnreferenced: keys collected regardless of age when nothing references them. */
  public GarbageCollector(ObjectStore store, Duration grace, Predicate<String> deadIfUnreferenced) {
    this.store = store;
    this.grace = grace;
    this.deadIfUnreferenced = deadIfUnreferenced;
  }

  public Report run() throws IOException {
    // Read the data objects first: anything created after this listing is not a candidate.
    List<ObjectInfo> candidates = new ArrayList<>();
    for (String space : StoreLayout.DATA_SPACES) {
      candidates.addAll(store.list(space));
    }
    Set<String> roots = referencedKeys(store);
    Instant cutoff = Instant.now().minus(grace);
    Map<String, Instant> importActivity = new HashMap<>();
    for (ObjectInfo info : candidates) {
      if (StoreLayout.isImport(info.key())) {
        importActivity.merge(StoreLayout.importOf(info.key()), info.lastModified(), (a, b) -> a.isAfter(b) ? a : b);
      }
    }
    List<String> garbage = new ArrayList<>();
    long bytes = 0;
    for (ObjectInfo info : candidates) {
      Instant newest = StoreLayout.isImport(info.key())
          ? importActivity.get(StoreLayout.importOf(info.key())) : info.lastModified();
      if (!roots.contains(info.key()) && (newest.isBefore(cutoff) || deadIfUnreferenced.test(info.key()))) {
        garbage.add(info.key());
        bytes += info.size();
      }
    }
    store.deleteAll(garbage);
    return new Report(candidates.size(), garbage.size(), bytes, candidates.size() - garbage.size());
  }

  /**
   * Every key a volume or a snapshot of store references: each volume's newest checkpoint, what
   * it maps, and every segment after it; what every snapshot maps. Public for the share agent's
   * collection of {@code shares/} objects, which volumes map too (docs/SHARE.md); the volume
   * collector itself never looks outside {@link StoreLayout#DATA_SPACES}.
   */
  public static Set<String> referencedKeys(ObjectStore store) throws IOException {
    Set<String> roots = new HashSet<>();
    Map<String, List<ObjectInfo>> checkpointsById = new HashMap<>();
    for (ObjectInfo info : store.list(StoreLayout.CHECKPOINTS)) {
      String id = info.key().split("/")[1];
      checkpointsById.computeIfAbsent(id, k -> new ArrayList<>()).add(info);
    }
    for (ObjectInfo metaInfo : store.list(StoreLayout.metaPrefix())) {
      VolumeMeta meta;
      try {
        meta = VolumeMeta.decode(store.get(metaInfo.key()), metaInfo.key());
      } catch (NoSuchObjectException deleted) {
        continue;
      }
      long fromSegment = 0;
      List<ObjectInfo> checkpoints = checkpointsById.getOrDefault(meta.id(), List.of());
      while (!checkpoints.isEmpty()) {
        String newest = checkpoints.get(checkpoints.size() - 1).key();
        byte[] encoded;
        try {
          encoded = store.get(newest);
        } catch (NoSuchObjectException replaced) {
          // The volume's owner wrote a newer checkpoint and removed this one since the listing:
          // the newer one (and the segments after it, listed below) is what must be kept.
          checkpoints = store.list(StoreLayout.checkpointPrefix(meta.id()));
          continue;
        }
        roots.add(newest);
        MappingCodec.Decoded decoded = MappingCodec.decode(ByteBuffer.wrap(encoded), newest);
        roots.addAll(decoded.table().referencedKeys());
        fromSegment = decoded.segmentSeq();
        break;
      }
      List<ObjectInfo> segments = store.list(StoreLayout.segmentPrefix(meta.id()));
      for (ObjectInfo segment : segments) {
        if (StoreLayout.seqOf(segment.key()) > fromSegment) {
          roots.add(segment.key());
        }
      }
      keepLinked(store, segments, fromSegment, roots);
    }
    for (ObjectInfo snapshot : store.list(StoreLayout.SNAPSHOTS)) {
      try {
        roots.addAll(MappingCodec.decode(ByteBuffer.wrap(store.get(snapshot.key())), snapshot.key())
            .table().referencedKeys());
      } catch (NoSuchObjectException deleted) {
        // Deleted while we listed: what it referenced is garbage unless something else holds it.
      }
    }
    return roots;
  }

  /**
   * Adds the adopted journal files ({@link StoreLayout#segmentData}) that segments after the
   * checkpoint link to: a file adopted for an earlier segment is named by that segment's number,
   * and its later records may be linked from segments the checkpoint does not cover yet. Their
   * headers are read only when such a file would otherwise go; one that cannot be read (a
   * segment a power cut tore, which its owner drops at open) keeps every adopted file of the volume.
   */
  private static void keepLinked(ObjectStore store, List<ObjectInfo> segments, long fromSegment, Set<String> roots)
      throws IOException {
    List<String> unreferenced = segments.stream().map(ObjectInfo::key)
        .filter(k -> StoreLayout.isSegmentData(k) && !roots.contains(k)).toList();
    if (unreferenced.isEmpty()) {
      return;
    }
    for (ObjectInfo segment : segments) {
      if (!StoreLayout.isSegment(segment.key()) || StoreLayout.seqOf(segment.key()) <= fromSegment) {
        continue;
      }
      try {
        roots.addAll(SegmentRecovery.readHeader(store, segment.key()).objects());
      } catch (SegmentFormat.DamagedSegmentException | NoSuchObjectException e) {
        roots.addAll(unreferenced);
        return;
      }
    }
  }
}
