package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.remap.engine.core.CleaningPolicy.Order;
import dev.remap.engine.core.CleaningPolicy.Plan;
import dev.remap.engine.core.CleaningPolicy.Segment;
import dev.remap.engine.core.CleaningPolicy.Settings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The policy driving a simulated log-structured volume: client writes append to an open segment,
 * a full segment is sealed and the cleaner asked for a plan, which is carried out at once (live
 * blocks copied into the open segment, victims and dead segments deleted). Every step checks
 * that each block still reads its latest value and that no pinned segment was deleted. The
 * numbers printed here are the evidence for {@link Settings#defaults()}'s order.
 */
class CleaningSimulationTest {

  private static final int BLOCK_SIZE = 4096;
  private static final int VOLUME_BLOCKS = 16_384; // 64 MiB
  private static final int SEGMENT_BLOCKS = 2_048; // 8 MiB
  private static final int OVERWRITES = 8;
  private static final double MAX_WRITE_AMPLIFICATION = 2.0;

  enum Workload { UNIFORM, HOT_COLD }

  record Outcome(double writeAmplification, double busyPeak, double finalAmplification, int plans) {}

  @Test
  void defaultsKeepBothAmplificationsBoundedAndTheDefaultOrderIsTheBetterOne() {
    Settings defaults = Settings.defaults();
    Map<Workload, Map<Order, Outcome>> outcomes = new EnumMap<>(Workload.class);
    StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
        "%-9s %-13s %8s %10s %10s %6s%n", "workload", "order", "write-amp", "busy-peak", "final", "plans"));
    for (Workload workload : Workload.values()) {
      for (Order order : Order.values()) {
        Settings settings = new Settings(defaults.targetAmplification(), defaults.busyAmplification(),
            defaults.hysteresis(), defaults.minReclaim(), defaults.maxCopy(), defaults.maxUtilization(), order);
        Outcome outcome = new SimulatedVolume(settings, new Random(42)).run(workload);
        outcomes.computeIfAbsent(workload, w -> new EnumMap<>(Order.class)).put(order, outcome);
        table.append(String.format(Locale.ROOT, "%-9s %-13s %8.3f %10.3f %10.3f %6d%n", workload, order,
            outcome.writeAmplification(), outcome.busyPeak(), outcome.finalAmplification(), outcome.plans()));
      }
    }
    System.out.print(table);

    double oneSegment = (double) SEGMENT_BLOCKS / VOLUME_BLOCKS;
    outcomes.forEach((workload, byOrder) -> byOrder.forEach((order, outcome) -> {
      String run = workload + " " + order;
      assertThat(outcome.writeAmplification()).as(run + " write amplification").isLessThanOrEqualTo(MAX_WRITE_AMPLIFICATION);
      assertThat(outcome.finalAmplification()).as(run + " stored/live after idle cleaning")
          .isLessThanOrEqualTo(defaults.targetAmplification() + oneSegment);
      // While busy, at most the bound, the open segment and the one sealed just before planning.
      assertThat(outcome.busyPeak()).as(run + " stored/live while busy")
          .isLessThanOrEqualTo(defaults.busyAmplification() + 2 * oneSegment);
    }));
    // On uniform writes the two orders are within a few blocks of each other (no block is
    // colder than another, so age tells nothing); the default must win over both workloads.
    Order other = defaults.order() == Order.GREEDY ? Order.COST_BENEFIT : Order.GREEDY;
    double chosen = 0;
    double rejected = 0;
    for (Workload workload : Workload.values()) {
      chosen += outcomes.get(workload).get(defaults.order()).writeAmplification();
      rejected += outcomes.get(workload).get(other).writeAmplification();
    }
    assertThat(chosen).as("the default order copies less than " + other + " over both workloads")
        .isLessThanOrEqualTo(rejected);
  }

  /** A volume whose blocks live in segments, with block -> (segment, slot) as its mapping. */
  static final class SimulatedVolume {

    static final class Seg {
      final long seq;
      final int[] blocks = new int[SEGMENT_BLOCKS];
      final long[] values = new long[SEGMENT_BLOCKS];
      int used;
      int live;
      boolean pinned;

      Seg(long seq) {
        this.seq = seq;
      }
    }

    private final Settings settings;
    private final Random random;
    /** What the client last wrote to each block (0: never written); the model to check against. */
    private final long[] latest = new long[VOLUME_BLOCKS];
    private final Seg[] home = new Seg[VOLUME_BLOCKS];
    private final int[] slot = new int[VOLUME_BLOCKS];
    private final TreeMap<Long, Seg> sealed = new TreeMap<>();
    private final List<Seg> snapshot = new ArrayList<>();
    private Seg open = new Seg(1);
    private long nextValue = 1;
    private int sealsSincePlan;
    private long clientWrites;
    private long segmentWrites;
    private int plans;
    private double busyPeak;

    SimulatedVolume(Settings settings, Random random) {
      this.settings = settings;
      this.random = random;
    }

    Outcome run(Workload workload) {
      // A full disk first: the worst case for cleaning, and not counted in write amplification.
      for (int block = 0; block < VOLUME_BLOCKS; block++) {
        clientWrite(block);
        cleanIfSealed();
      }
      clientWrites = 0;
      segmentWrites = 0;
      int hotBlocks = VOLUME_BLOCKS / 10;
      long total = (long) OVERWRITES * VOLUME_BLOCKS;
      for (long i = 1; i <= total; i++) {
        int block = switch (workload) {
          case UNIFORM -> random.nextInt(VOLUME_BLOCKS);
          case HOT_COLD -> random.nextInt(10) < 9
              ? random.nextInt(hotBlocks)
              : hotBlocks + random.nextInt(VOLUME_BLOCKS - hotBlocks);
        };
        clientWrite(block);
        cleanIfSealed();
        if (i % VOLUME_BLOCKS == 0) {
          takeSnapshot();
        }
        // The policy bounds what the volume can reclaim: a pinned segment's dead blocks stay for
        // the snapshot whatever the cleaner does, so they are not part of the busy bound.
        busyPeak = Math.max(busyPeak, (double) (storedBlocks() - pinnedDeadBlocks() + open.used) / VOLUME_BLOCKS);
      }
      releaseSnapshot();
      idleClean();
      return new Outcome((double) segmentWrites / clientWrites, busyPeak,
          (double) storedBlocks() / VOLUME_BLOCKS, plans);
    }

    private void clientWrite(int block) {
      latest[block] = nextValue++;
      clientWrites++;
      append(block, latest[block]);
    }

    private void append(int block, long value) {
      if (home[block] != null) {
        home[block].live--;
      }
      open.blocks[open.used] = block;
      open.values[open.used] = value;
      home[block] = open;
      slot[block] = open.used;
      open.used++;
      open.live++;
      segmentWrites++;
      if (open.used == SEGMENT_BLOCKS) {
        seal();
      }
    }

    private void seal() {
      sealed.put(open.seq, open);
      open = new Seg(open.seq + 1);
      sealsSincePlan++;
    }

    /** Seals made while copying are planned for after the next client write, as a cleaner would. */
    private void cleanIfSealed() {
      if (sealsSincePlan > 0) {
        sealsSincePlan = 0;
        carryOut(CleaningPolicy.plan(segments(), true, settings));
      }
    }

    /** The volume goes quiet: flush the open segment, then clean to the target. */
    private void idleClean() {
      for (int round = 0; round < 100; round++) {
        flush();
        Plan plan = CleaningPolicy.plan(segments(), false, settings);
        carryOut(plan);
        if (plan.isEmpty()) {
          flush();
          return;
        }
      }
      fail("idle cleaning did not converge in 100 plans");
    }

    private void flush() {
      if (open.used > 0) {
        seal();
      }
      sealsSincePlan = 0;
    }

    private void carryOut(Plan plan) {
      if (!plan.isEmpty()) {
        plans++;
      }
      for (Segment victim : plan.victims()) {
        Seg seg = sealed.get(victim.seq());
        assertThat(seg.live * (long) BLOCK_SIZE).as("live bytes of " + victim.key()).isEqualTo(victim.liveBytes());
        for (int i = 0; i < seg.used; i++) {
          int block = seg.blocks[i];
          if (home[block] == seg && slot[block] == i) {
            append(block, seg.values[i]);
          }
        }
        delete(seg);
      }
      for (Segment dead : plan.dead()) {
        delete(sealed.get(dead.seq()));
      }
      checkEveryBlock();
    }

    private void delete(Seg seg) {
      assertThat(seg.pinned).as("segment %d is pinned and must not be deleted", seg.seq).isFalse();
      assertThat(seg.live).as("segment %d still holds live blocks", seg.seq).isZero();
      sealed.remove(seg.seq);
    }

    /** A snapshot pins a few random segments until the next one replaces it. */
    private void takeSnapshot() {
      releaseSnapshot();
      List<Seg> all = new ArrayList<>(sealed.values());
      for (int i = 0; i < 2 && !all.isEmpty(); i++) {
        Seg seg = all.remove(random.nextInt(all.size()));
        seg.pinned = true;
        snapshot.add(seg);
      }
    }

    private void releaseSnapshot() {
      for (Seg seg : snapshot) {
        assertThat(sealed.get(seg.seq)).as("pinned segment %d survived", seg.seq).isSameAs(seg);
        seg.pinned = false;
      }
      snapshot.clear();
    }

    private List<Segment> segments() {
      List<Segment> segments = new ArrayList<>();
      for (Seg seg : sealed.values()) {
        segments.add(new Segment("seg-" + seg.seq, seg.seq, (long) seg.used * BLOCK_SIZE,
            (long) seg.live * BLOCK_SIZE, seg.pinned));
      }
      return segments;
    }

    private long pinnedDeadBlocks() {
      return sealed.values().stream().filter(seg -> seg.pinned).mapToLong(seg -> seg.used - seg.live).sum();
    }

    private long storedBlocks() {
      return sealed.values().stream().mapToLong(seg -> seg.used).sum();
    }

    private void checkEveryBlock() {
      int[] liveCount = new int[1];
      for (int block = 0; block < VOLUME_BLOCKS; block++) {
        if (latest[block] == 0) {
          continue;
        }
        Seg seg = home[block];
        if (seg != open && sealed.get(seg.seq) != seg) {
          fail("block " + block + " points to deleted segment " + seg.seq);
        }
        if (seg.blocks[slot[block]] != block || seg.values[slot[block]] != latest[block]) {
          fail("block " + block + " lost its latest value " + latest[block]);
        }
        liveCount[0]++;
      }
      long counted = open.live + sealed.values().stream().mapToLong(seg -> seg.live).sum();
      assertThat(counted).as("live counts agree with the mapping").isEqualTo(liveCount[0]);
    }
  }
}
