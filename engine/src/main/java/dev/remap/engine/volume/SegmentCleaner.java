package dev.remap.engine.volume;

import dev.remap.engine.core.ChunkRef;
import dev.remap.engine.core.CleaningPolicy;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.SegmentFormat;
import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Keeps a volume's store near the size of its data. Overwrites and trims leave the volume's
 * older segments partly dead; from time to time the cleaner measures, from the stored mapping
 * alone (no segment is read for it), how much of each segment the volume still references,
 * asks {@link CleaningPolicy} which segments to empty, and copies their live bytes into new
 * segments, one segment's worth per step, paced to {@code bytesPerSecond}. Garbage collection
 * then deletes the emptied segments once a checkpoint no longer references them.
 *
 * <p>Safety. Every step runs on the volume's uploader thread, the only thread that writes
 * segments or changes the stored mapping, so the mapping a step reads is still the stored one
 * when its segment is committed. A cleaned segment is an ordinary segment: it gets the next
 * number, is written under the same ownership fence as an upload, and replaying it after a crash
 * maps its ranges to the copied bytes, which equal what they replace; changes journaled but not
 * uploaded yet replay after it, so a newer write is never undone. The live mapping is moved only
 * where it still points at the victim ({@link MappingTable#relocate}). Until a checkpoint after
 * the copy exists, the newest checkpoint still references the victim, so garbage collection keeps
 * it; a SIGKILL at any moment therefore leaves either the old or the new reference, each to bytes
 * that exist. Segments something else references ({@link SharedSegments}) are never chosen.
 *
 * <p>Its segments are written lazily (no fsync, on a file store) like uploads: a power cut may
 * tear one, and the next open then drops it and the segments after it. That loses nothing,
 * because the victims it copied from stay referenced by the newest checkpoint, and so are kept by
 * garbage collection, until the next checkpoint, which {@link SegmentWriter} writes only after a
 * barrier has made the cleaned segments durable. Writing them eagerly would buy nothing more.
 *
 * <p>Threads: {@link #nanosUntilDue} is asked under the uploader's lock and reads only volatile
 * fields; everything else runs on the uploader thread.
 */
final class SegmentCleaner {

  private static final System.Logger LOG = System.getLogger(SegmentCleaner.class.getName());

  /** What the cleaner needs of its volume and its uploader. */
  interface Target {
    String name();

    String volumeId();

    /** Does this process own the volume now (a standby neither measures nor cleans)? */
    boolean owned();

    /** A copy of the stored mapping, taken under the volume's map lock. */
    MappingTable storedCopy();

    /** Applies query to the stored mapping under the volume's map lock (it must not keep the table). */
    <T> T queryStored(Function<MappingTable, T> query);

    /** When the volume was last written (System.nanoTime), 0 if never since open. */
    long lastWriteNanos();

    /**
     * Bytes the volume wrote to the store since it was opened, and how many of them make the next
     * measurement due at once (see {@link SegmentCleaner#nanosUntilDue}); 0 and Long.MAX_VALUE:
     * measured by the interval alone.
     */
    default long bytesUploaded() {
      return 0;
    }

    default long measureAfterBytes() {
      return Long.MAX_VALUE;
    }

    void readStore(String key, long offset, ByteBuffer dst) throws IOException;

    /** Writes a segment of copied data and moves the mapping onto it. */
    void writeCleaned(List<SegmentFormat.Entry> entries, List<ByteBuffer> payloads, List<Uploader.Move> moves)
        throws IOException;

    /**
     * Objects under the volume's segment prefix still being filled: journal files adopted for
     * segments that the journal still appends to (see JournalLinks). Their bytes not mapped yet
     * are not dead, so they count as stored only as far as they are live, and are never cleaned.
     */
    default Set<String> filling() {
      return Set.of();
    }

    /** Writes a checkpoint if segments were written since the last one. */
    void checkpointIfBehind() throws IOException;

    /** The emptied segments can be collected now. */
    void collectSoon();
  }

  /** The volume's space as last measured. */
  record Space(long liveBytes, long storedBytes, int segments, int pinnedSegments) {
    static final Space UNKNOWN = new Space(0, 0, 0, 0);

    double amplification() {
      return liveBytes == 0 ? (storedBytes == 0 ? 1.0 : Double.POSITIVE_INFINITY) : (double) storedBytes / liveBytes;
    }
  }

  record Range(long volumeOffset, long length, long objectOffset) {}

  private final Target target;
  private final ObjectStore store;
  private final VolumeOptions.Cleaning settings;
  private final int stepBytes;
  private final SharedSegments shared;
  private final ArrayDeque<CleaningPolicy.Segment> victims = new ArrayDeque<>();
  /**
   * Where the stored mapping pointed into each victim when the plan was made; a step keeps only
   * what still does. Filled and consumed on the uploader thread; restart and failure drop it from
   * other threads. A stale plan is harmless: every range is checked against the stored mapping.
   */
  private volatile Map<String, List<Range>> planned = Map.of();
  private final AtomicLong cleanedBytes = new AtomicLong();
  private final AtomicLong cleanedSegments = new AtomicLong();
  private volatile long nextStepNanos;
  private volatile long nextEvaluationNanos;
  private volatile boolean settled;
  private volatile long evaluatedAt;
  private volatile boolean collectAfterPlan;
  /** {@link Target#bytesUploaded} at the last measurement. */
  private volatile long uploadedAtEvaluation;
  private volatile Space space = Space.UNKNOWN;

  SegmentCleaner(Target target, ObjectStore store, VolumeOptions.Cleaning settings, int stepBytes) {
    this.target = target;
    this.store = store;
    this.settings = settings;
    this.stepBytes = stepBytes;
    this.shared = new SharedSegments(store, target.volumeId());
    this.nextEvaluationNanos = System.nanoTime() + settings.interval().toNanos();
  }

  /** Nanoseconds until the cleaner has work (0 or less: now); Long.MAX_VALUE when none is foreseen. */
  long nanosUntilDue() {
    if (!settings.enabled() || !target.owned()) {
      return Long.MAX_VALUE;
    }
    long now = System.nanoTime();
    if (hasVictims()) {
      return nextStepNanos - now;
    }
    if (target.bytesUploaded() - uploadedAtEvaluation >= target.measureAfterBytes()) {
      // A volume overwritten fast leaves its size in dead segments within an interval (12 GiB in
      // 10 s at 1.2 GB/s of 1 MiB writes): measured again as soon as it wrote that much, dead
      // segments are checkpointed away and collected without waiting for the interval.
      return 0;
    }
    if (settled && target.lastWriteNanos() <= evaluatedAt) {
      return Long.MAX_VALUE;
    }
    return nextEvaluationNanos - now;
  }

  private boolean hasVictims() {
    synchronized (victims) {
      return !victims.isEmpty();
    }
  }

  /** Does what is due: one cleaning step, or a new measurement and plan. */
  void runDue() throws IOException {
    if (hasVictims()) {
      step();
    } else {
      evaluate();
    }
  }

  /** Bytes of live data the cleaner copied since the volume was opened. */
  long cleanedBytes() {
    return cleanedBytes.get();
  }

  long cleanedSegments() {
    return cleanedSegments.get();
  }

  Space space() {
    return space;
  }

  /** Measures the volume's segments and plans what to clean. */
  void evaluate() throws IOException {
    long started = System.nanoTime();
    boolean busy = target.lastWriteNanos() != 0
        && started - target.lastWriteNanos() < settings.idleAfter().toNanos();
    evaluatedAt = started;
    uploadedAtEvaluation = target.bytesUploaded();
    nextEvaluationNanos = started + settings.interval().toNanos();
    String prefix = StoreLayout.segmentPrefix(target.volumeId());
    List<ObjectInfo> listed = store.list(prefix);
    MappingTable table = target.storedCopy();
    Map<String, Long> live = liveBytes(table, prefix);
    Set<String> pinned = shared.pinned();
    Set<String> filling = target.filling();
    List<CleaningPolicy.Segment> segments = new ArrayList<>(listed.size());
    int pinnedCount = 0;
    for (ObjectInfo info : listed) {
      boolean isPinned = pinned.contains(info.key());
      pinnedCount += isPinned ? 1 : 0;
      long size = Math.max(info.size(), 0);
      long liveBytes = Math.min(live.getOrDefault(info.key(), 0L), size);
      segments.add(new CleaningPolicy.Segment(info.key(), StoreLayout.seqOf(info.key()),
          filling.contains(info.key()) ? liveBytes : size, liveBytes, isPinned));
    }
    CleaningPolicy.Plan plan = CleaningPolicy.plan(segments, busy, settings.policy());
    space = new Space(plan.liveBytes(), plan.storedBytes(), segments.size(), pinnedCount);
    Set<String> victimKeys = new HashSet<>();
    plan.victims().forEach(v -> victimKeys.add(v.key()));
    // Walking the whole mapping once per plan, not once per step: a step only checks its ranges.
    planned = victimKeys.isEmpty() ? Map.of() : rangesIn(table, victimKeys);
    synchronized (victims) {
      victims.clear();
      victims.addAll(plan.victims());
    }
    settled = !busy && plan.isEmpty();
    if (!plan.isEmpty()) {
      LOG.log(Level.INFO, "volume {0}: space amplification {1} ({2} stored for {3} live): cleaning {4} segments, "
          + "copying {5} bytes", target.name(), String.format("%.2f", plan.amplificationBefore()), plan.storedBytes(),
          plan.liveBytes(), plan.victims().size(), plan.copyBytes());
      collectAfterPlan = true;
      nextStepNanos = System.nanoTime();
    } else if (!plan.dead().isEmpty() || collectAfterPlan) {
      finishPlan();
    }
  }

  /** Copies the live bytes of the next victims (about one segment's worth) into a new segment. */
  void step() throws IOException {
    List<CleaningPolicy.Segment> chosen = new ArrayList<>();
    long bytes = 0;
    long read = 0;
    synchronized (victims) {
      // About one segment of copies per step, and at most four segments read into memory for it.
      while (!victims.isEmpty() && (chosen.isEmpty()
          || (bytes + victims.peek().liveBytes() <= stepBytes && read + victims.peek().size() <= 4L * stepBytes))) {
        CleaningPolicy.Segment next = victims.poll();
        chosen.add(next);
        bytes += next.liveBytes();
        read += next.size();
      }
    }
    Map<String, List<Range>> wanted = new HashMap<>();
    Map<String, List<Range>> plan = planned;
    for (CleaningPolicy.Segment s : chosen) {
      List<Range> inVictim = plan.get(s.key());
      if (inVictim != null) {
        wanted.put(s.key(), inVictim);
      }
    }
    // Uploads since the plan may have moved some ranges off the victim: copying those would undo
    // the newer write when the cleaned segment is replayed after it.
    Map<String, List<Range>> ranges = target.queryStored(stored -> stillMapped(stored, wanted));
    List<Range> all = new ArrayList<>();
    List<ByteBuffer> payloads = new ArrayList<>();
    List<Uploader.Move> moves = new ArrayList<>();
    for (Map.Entry<String, List<Range>> victim : ranges.entrySet()) {
      List<Range> inVictim = victim.getValue();
      inVictim.sort(Comparator.comparingLong(Range::objectOffset));
      // One read per victim, of the span its live parts occupy: on S3 one GET, not one per part.
      long from = inVictim.get(0).objectOffset();
      long to = inVictim.get(inVictim.size() - 1).objectOffset() + inVictim.get(inVictim.size() - 1).length();
      ByteBuffer whole = ByteBuffer.allocate(Math.toIntExact(to - from));
      target.readStore(victim.getKey(), from, whole);
      for (Range r : inVictim) {
        ByteBuffer part = whole.duplicate();
        part.limit(Math.toIntExact(r.objectOffset() - from + r.length())).position(Math.toIntExact(r.objectOffset() - from));
        all.add(r);
        payloads.add(part.slice());
        moves.add(new Uploader.Move(r.volumeOffset(), r.length(), new Source.Stored(victim.getKey(), r.objectOffset()), null));
      }
    }
    long copied = 0;
    if (!all.isEmpty()) {
      List<SegmentFormat.Entry> entries = new ArrayList<>(all.size());
      for (Range r : all) {
        entries.add(new SegmentFormat.Entry(SegmentFormat.Kind.DATA, r.volumeOffset(), r.length(), 0));
        copied += r.length();
      }
      target.writeCleaned(entries, payloads, moves);
    }
    cleanedBytes.addAndGet(copied);
    cleanedSegments.addAndGet(chosen.size());
    nextStepNanos = System.nanoTime() + (long) (copied * 1e9 / settings.bytesPerSecond());
    if (!hasVictims()) {
      finishPlan();
    }
  }

  /** Makes the emptied segments collectable: a checkpoint that no longer references them. */
  private void finishPlan() throws IOException {
    target.checkpointIfBehind();
    target.collectSoon();
    collectAfterPlan = false;
  }

  /**
   * The volume was taken back from another owner: what was planned before may be cleaned already
   * (by that owner) and is measured again after an interval.
   */
  void restart() {
    synchronized (victims) {
      victims.clear();
    }
    planned = Map.of();
    settled = false;
    nextEvaluationNanos = System.nanoTime() + settings.interval().toNanos();
  }

  /** A failed step or measurement: the plan is dropped and measured again at the next interval. */
  void failed(Exception e) {
    synchronized (victims) {
      victims.clear();
    }
    planned = Map.of();
    settled = false;
    LOG.log(Level.WARNING, "cleaning volume {0} failed, measured again in {1}: {2}", target.name(),
        settings.interval(), e.toString());
  }

  /** Live bytes of each of the volume's own segments, from the stored mapping. */
  static Map<String, Long> liveBytes(MappingTable table, String ownPrefix) {
    // Summed in place, without a Span or a boxed sum per span: a fragmented volume has millions.
    Map<String, long[]> sums = new HashMap<>();
    for (long i = 0; i < table.geometry().chunkCount(); i++) {
      table.chunk(i).forEachStored((key, length) -> {
        if (key.startsWith(ownPrefix)) {
          sums.computeIfAbsent(key, k -> new long[1])[0] += length;
        }
      });
    }
    Map<String, Long> live = new HashMap<>();
    sums.forEach((key, sum) -> live.put(key, sum[0]));
    return live;
  }

  /** The parts of the given ranges that table still maps to the same bytes of the same object. */
  static Map<String, List<Range>> stillMapped(MappingTable table, Map<String, List<Range>> ranges) {
    Map<String, List<Range>> out = new HashMap<>();
    ranges.forEach((key, list) -> {
      List<Range> kept = new ArrayList<>();
      for (Range r : list) {
        for (Span span : table.resolve(r.volumeOffset(), r.length())) {
          long objectOffset = r.objectOffset() + (span.offset() - r.volumeOffset());
          if (span.source() instanceof Source.Stored stored && stored.key().equals(key)
              && stored.offset() == objectOffset) {
            kept.add(new Range(span.offset(), span.length(), objectOffset));
          }
        }
      }
      if (!kept.isEmpty()) {
        out.put(key, kept);
      }
    });
    return out;
  }

  /** Where the table maps into the given objects, by object. */
  static Map<String, List<Range>> rangesIn(MappingTable table, Set<String> keys) {
    // Walked without a Span per span (ChunkRef.forEachSpan): the whole mapping, at every measurement.
    Map<String, List<Range>> out = new HashMap<>();
    for (long i = 0; i < table.geometry().chunkCount(); i++) {
      long base = table.geometry().chunkStart(i);
      table.chunk(i).forEachSpan((offset, length, kind, object, objectOffset) -> {
        if (kind == ChunkRef.Kind.STORED && keys.contains(object)) {
          out.computeIfAbsent(object, k -> new ArrayList<>()).add(new Range(base + offset, length, objectOffset));
        }
      });
    }
    return out;
  }
}
