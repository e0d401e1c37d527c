package dev.remap.engine.volume;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * What the owner of a volume knows is dead at once among its own segments, so that garbage
 * collection in its process need not wait out the grace period for them.
 *
 * <p>The grace period protects objects being made right now by any process. For the segments of
 * a volume this process owns, the owner knows what is being made: segments numbered after its
 * newest checkpoint (roots anyway) and the journal files it adopted that its journal still holds
 * (records in them may not be in any segment yet: the next segment links to them). Any other of
 * its segments, numbered up to the newest checkpoint, is never referenced again once nothing in
 * the store references it: the live mapping only gains references to segments after that
 * checkpoint, snapshots are saved from that mapping, and a new adoption is named after a later
 * segment. So such a segment may go as soon as collection finds it unreferenced. Without this, a
 * volume overwritten fast kept everything it overwrote for the grace period (5 minutes by
 * default): at 1 GB/s of sequential writes, more than a node's disk holds.
 *
 * <p>Collection still finds the references itself (every volume's checkpoint, what segments after
 * it link, every snapshot): this only waives the age test, which collection with no grace at all
 * (tests and {@code remap gc --grace 0s} run it beside writers) already does for every object.
 *
 * <p>A volume closed here keeps its mark (its last checkpoint, the journal files its journal still
 * holds for the next open): nothing numbered up to that checkpoint is referenced again by anyone,
 * including a later owner elsewhere, whose segments and adoptions are numbered after it. The
 * {@link Registry} keeps it for the grace period, after which the age test covers those segments.
 *
 * <p>Threads: marked by the upload thread at each checkpoint; read by the store's collector.
 */
final class OwnGarbage {

  private record Mark(long checkpointSeq, Set<String> filling) {}

  private final String prefix;
  private volatile Mark mark;

  OwnGarbage(String volumeId) {
    this.prefix = StoreLayout.segmentPrefix(volumeId);
  }

  /** A checkpoint numbered seq is in the store; filling: the adopted files the journal holds. */
  void checkpointed(long seq, Set<String> filling) {
    mark = new Mark(seq, Set.copyOf(filling));
  }

  /** Another owner had the volume: nothing is known until the next checkpoint. */
  void forget() {
    mark = null;
  }

  /** Whether key may be collected regardless of its age if nothing in the store references it. */
  boolean deadIfUnreferenced(String key) {
    Mark m = mark;
    return m != null && key.startsWith(prefix) && StoreLayout.seqOf(key) <= m.checkpointSeq()
        && !m.filling().contains(key);
  }

  /** The marks of the volumes a process serves, and of those it closed within the grace period. */
  static final class Registry implements Predicate<String> {

    /** A volume's mark, and when it closed here (Long.MIN_VALUE: served). */
    private record Held(OwnGarbage garbage, long closedAtNanos) {}

    private static final long SERVED = Long.MIN_VALUE;

    private final long keepAfterCloseNanos;
    private final Map<String, Held> held = new ConcurrentHashMap<>();

    Registry(Duration keepAfterClose) {
      this.keepAfterCloseNanos = keepAfterClose.toNanos();
    }

    void opened(String volumeId, OwnGarbage garbage) {
      held.put(volumeId, new Held(garbage, SERVED));
    }

    /** The volume closed (or was handed over) here; forgets the marks of volumes closed long ago. */
    void closed(String volumeId, OwnGarbage garbage) {
      long now = System.nanoTime();
      held.computeIfPresent(volumeId, (id, h) -> h.garbage() == garbage ? new Held(garbage, now) : h);
      held.values().removeIf(h -> expired(h, now));
    }

    private boolean expired(Held h, long now) {
      return h.closedAtNanos() != SERVED && now - h.closedAtNanos() > keepAfterCloseNanos;
    }

    /** Whether key is a segment whose volume's owner here knows it is dead once unreferenced. */
    @Override
    public boolean test(String key) {
      if (!key.startsWith(StoreLayout.SEGMENTS)) {
        return false;
      }
      int end = key.indexOf('/', StoreLayout.SEGMENTS.length());
      Held h = end < 0 ? null : held.get(key.substring(StoreLayout.SEGMENTS.length(), end));
      return h != null && !expired(h, System.nanoTime()) && h.garbage().deadIfUnreferenced(key);
    }
  }
}
