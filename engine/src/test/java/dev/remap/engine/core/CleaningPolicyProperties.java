package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.core.CleaningPolicy.Order;
import dev.remap.engine.core.CleaningPolicy.Plan;
import dev.remap.engine.core.CleaningPolicy.Segment;
import dev.remap.engine.core.CleaningPolicy.Settings;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The plan against a model written from the rules: who may be chosen, in which order, and when to stop. */
class CleaningPolicyProperties {

  record Raw(long size, int livePercent, boolean pinned, long seq) {}

  @Provide
  Arbitrary<List<Segment>> segments() {
    // Small sizes and few seqs so that ties, empty segments and fully live ones are frequent.
    Arbitrary<Raw> raw = Combinators.combine(
            Arbitraries.longs().between(0, 100),
            Arbitraries.integers().between(0, 100),
            Arbitraries.of(false, false, false, true),
            Arbitraries.longs().between(1, 40))
        .as(Raw::new);
    return raw.list().ofMaxSize(30).map(raws -> {
      List<Segment> segments = new ArrayList<>();
      for (Raw r : raws) {
        segments.add(new Segment("s" + segments.size(), r.seq(), r.size(), r.size() * r.livePercent() / 100, r.pinned()));
      }
      return segments;
    });
  }

  @Provide
  Arbitrary<Settings> settings() {
    return Combinators.combine(
            Arbitraries.doubles().between(1.0, 2.5),
            Arbitraries.doubles().between(0.0, 1.0),
            Arbitraries.doubles().between(0.0, 0.3),
            Arbitraries.longs().between(0, 300),
            Arbitraries.longs().between(1, 600),
            Arbitraries.doubles().between(0.01, 1.0),
            Arbitraries.of(Order.class))
        .as((target, busyExtra, hysteresis, minReclaim, maxCopy, maxUtilization, order) ->
            new Settings(target, target + busyExtra, hysteresis, minReclaim, maxCopy, maxUtilization, order));
  }

  /** The rules' candidates in the rules' order, written independently of the policy. */
  static List<Segment> modelCandidates(List<Segment> segments, Settings settings) {
    long newest = segments.stream().mapToLong(Segment::seq).max().orElse(0);
    Comparator<Segment> priority = settings.order() == Order.GREEDY
        ? Comparator.comparingDouble(s -> (double) s.liveBytes() / s.size())
        : Comparator.comparingDouble((Segment s) -> {
          double u = (double) s.liveBytes() / s.size();
          return -(1 - u) * (newest - s.seq() + 1) / (1 + u);
        });
    return segments.stream()
        .filter(s -> !s.pinned() && s.liveBytes() > 0 && (double) s.liveBytes() / s.size() <= settings.maxUtilization())
        .sorted(priority.thenComparingLong(Segment::seq).thenComparing(Segment::key))
        .toList();
  }

  static double amplification(long stored, long live) {
    return live == 0 ? (stored > 0 ? Double.POSITIVE_INFINITY : 1.0) : (double) stored / live;
  }

  /** The dead bytes of pinned segments: not the volume's to reclaim, so left out of its amplification. */
  static long pinnedGarbage(List<Segment> segments) {
    return segments.stream().filter(Segment::pinned).mapToLong(s -> s.size() - s.liveBytes()).sum();
  }

  static boolean triggered(List<Segment> segments, boolean busy, Settings settings) {
    long stored = segments.stream().mapToLong(Segment::size).sum() - pinnedGarbage(segments);
    long live = segments.stream().mapToLong(Segment::liveBytes).sum();
    long reclaimable = segments.stream().filter(s -> !s.pinned() && s.liveBytes() == 0).mapToLong(Segment::size).sum()
        + modelCandidates(segments, settings).stream().mapToLong(s -> s.size() - s.liveBytes()).sum();
    return amplification(stored, live) > settings.threshold(busy) && reclaimable >= settings.minReclaim();
  }

  @Property(tries = 500)
  void victimsAreOnlyUnpinnedPartlyLiveSegmentsWithinTheLimits(
      @ForAll("segments") List<Segment> segments, @ForAll boolean busy, @ForAll("settings") Settings settings) {
    Plan plan = CleaningPolicy.plan(segments, busy, settings);
    assertThat(segments).containsAll(plan.victims());
    assertThat(new HashSet<>(plan.victims())).as("each victim once").hasSameSizeAs(plan.victims());
    for (Segment v : plan.victims()) {
      assertThat(v.pinned()).as("%s is pinned", v.key()).isFalse();
      assertThat(v.liveBytes()).as("%s has nothing to copy", v.key()).isPositive();
      assertThat((double) v.liveBytes() / v.size()).as("%s utilization", v.key()).isLessThanOrEqualTo(settings.maxUtilization());
    }
    assertThat(plan.copyBytes()).isLessThanOrEqualTo(settings.maxCopy());
    assertThat(plan.dead()).as("dead: every unpinned empty segment, in input order")
        .isEqualTo(segments.stream().filter(s -> !s.pinned() && s.liveBytes() == 0).toList());
  }

  @Property(tries = 500)
  void totalsAndAmplificationsAreARecomputationOfTheLists(
      @ForAll("segments") List<Segment> segments, @ForAll boolean busy, @ForAll("settings") Settings settings) {
    Plan plan = CleaningPolicy.plan(segments, busy, settings);
    long stored = segments.stream().mapToLong(Segment::size).sum();
    long live = segments.stream().mapToLong(Segment::liveBytes).sum();
    long copy = plan.victims().stream().mapToLong(Segment::liveBytes).sum();
    long reclaim = plan.victims().stream().mapToLong(Segment::size).sum()
        + plan.dead().stream().mapToLong(Segment::size).sum();
    assertThat(plan.storedBytes()).isEqualTo(stored);
    assertThat(plan.liveBytes()).isEqualTo(live);
    assertThat(plan.copyBytes()).isEqualTo(copy);
    assertThat(plan.reclaimBytes()).isEqualTo(reclaim);
    long pinnedGarbage = pinnedGarbage(segments);
    assertThat(plan.pinnedGarbageBytes()).isEqualTo(pinnedGarbage);
    assertThat(plan.amplificationBefore()).isEqualTo(amplification(stored - pinnedGarbage, live));
    assertThat(plan.amplificationAfter()).isEqualTo(amplification(stored - pinnedGarbage - reclaim + copy, live));
    assertThat(plan.amplificationAfter()).as("cleaning never makes it worse").isLessThanOrEqualTo(plan.amplificationBefore());
    assertThat(plan.isEmpty()).isEqualTo(plan.victims().isEmpty());
  }

  @Property(tries = 500)
  void nothingIsCopiedUnlessOverTheThresholdWithEnoughToReclaim(
      @ForAll("segments") List<Segment> segments, @ForAll boolean busy, @ForAll("settings") Settings settings) {
    Plan plan = CleaningPolicy.plan(segments, busy, settings);
    if (plan.amplificationBefore() <= settings.threshold(busy) || !triggered(segments, busy, settings)) {
      assertThat(plan.victims()).isEmpty();
    }
  }

  /** Once triggered, the plan takes candidates in priority order and stops only for a reason. */
  @Property(tries = 1000)
  void victimsAreTheShortestPrefixThatReachesTheGoalOrAStopReason(
      @ForAll("segments") List<Segment> segments, @ForAll boolean busy, @ForAll("settings") Settings settings) {
    Plan plan = CleaningPolicy.plan(segments, busy, settings);
    if (!triggered(segments, busy, settings)) {
      return;
    }
    List<Segment> candidates = modelCandidates(segments, settings);
    int taken = plan.victims().size();
    assertThat(plan.victims()).isEqualTo(candidates.subList(0, taken));
    double goal = settings.threshold(busy) - settings.hysteresis();
    if (plan.amplificationAfter() > goal) {
      boolean ranOut = taken == candidates.size();
      boolean maxCopyReached = !ranOut && plan.copyBytes() + candidates.get(taken).liveBytes() > settings.maxCopy();
      assertThat(ranOut || maxCopyReached).as("stopped short of %s at %s", goal, plan.amplificationAfter()).isTrue();
    }
    if (taken > 0) {
      Segment last = plan.victims().get(taken - 1);
      double withoutLast = amplification(
          plan.storedBytes() - plan.pinnedGarbageBytes() - plan.reclaimBytes() + last.size() + plan.copyBytes()
              - last.liveBytes(), plan.liveBytes());
      assertThat(withoutLast).as("the last victim was needed").isGreaterThan(goal);
    }
  }

  @Property(tries = 500)
  void greedyVictimsAreTheLeastLiveCandidates(
      @ForAll("segments") List<Segment> segments, @ForAll boolean busy, @ForAll("settings") Settings any) {
    Settings settings = new Settings(any.targetAmplification(), any.busyAmplification(), any.hysteresis(),
        any.minReclaim(), any.maxCopy(), any.maxUtilization(), Order.GREEDY);
    Plan plan = CleaningPolicy.plan(segments, busy, settings);
    double worstVictim = plan.victims().stream().mapToDouble(Segment::utilization).max().orElse(0);
    for (Segment c : modelCandidates(segments, settings)) {
      if (!plan.victims().contains(c)) {
        assertThat(c.utilization()).as("%s was passed over", c.key()).isGreaterThanOrEqualTo(worstVictim);
      }
    }
  }

  @Property(tries = 300)
  void theInputOrderDoesNotMatter(
      @ForAll("segments") List<Segment> segments, @ForAll boolean busy, @ForAll("settings") Settings settings) {
    List<Segment> reversed = new ArrayList<>(segments);
    java.util.Collections.reverse(reversed);
    assertThat(CleaningPolicy.plan(reversed, busy, settings).victims())
        .isEqualTo(CleaningPolicy.plan(segments, busy, settings).victims());
  }

  /** A busy volume is allowed more garbage: it copies a prefix of what a quiet one would. */
  @Property(tries = 300)
  void busyCleansAPrefixOfWhatQuietCleans(
      @ForAll("segments") List<Segment> segments, @ForAll("settings") Settings settings) {
    List<Segment> busy = CleaningPolicy.plan(segments, true, settings).victims();
    List<Segment> quiet = CleaningPolicy.plan(segments, false, settings).victims();
    assertThat(busy.size()).isLessThanOrEqualTo(quiet.size());
    assertThat(busy).isEqualTo(quiet.subList(0, busy.size()));
  }

  @Test
  void costBenefitPrefersAnOldSegmentToAYoungerEmptierOne() {
    List<Segment> segments = List.of(
        new Segment("old", 1, 100, 50, false),
        new Segment("young", 9, 100, 40, false),
        new Segment("newest", 10, 100, 100, false));
    Settings settings = new Settings(1.0, 1.0, 0.0, 0, 1000, 0.95, Order.COST_BENEFIT);
    assertThat(CleaningPolicy.candidates(segments, settings)).extracting(Segment::key).containsExactly("old", "young");
    Settings greedy = new Settings(1.0, 1.0, 0.0, 0, 1000, 0.95, Order.GREEDY);
    assertThat(CleaningPolicy.candidates(segments, greedy)).extracting(Segment::key).containsExactly("young", "old");
  }

  @Test
  void aVolumeWithNothingLiveReclaimsEveryUnpinnedSegment() {
    List<Segment> segments = List.of(
        new Segment("a", 1, 8 << 20, 0, false),
        new Segment("b", 2, 8 << 20, 0, true),
        new Segment("c", 3, 8 << 20, 0, false));
    Plan plan = CleaningPolicy.plan(segments, false, Settings.defaults());
    assertThat(plan.dead()).extracting(Segment::key).containsExactly("a", "c");
    assertThat(plan.victims()).isEmpty();
    assertThat(plan.amplificationBefore()).isInfinite();
    assertThat(plan.amplificationAfter()).as("only the pinned segment is left, and its garbage is not the volume's")
        .isEqualTo(1.0);
    assertThat(CleaningPolicy.plan(List.of(), true, Settings.defaults()).amplificationBefore()).isEqualTo(1.0);
  }

  @Test
  void aSingleCandidateLargerThanMaxCopyIsNotTaken() {
    List<Segment> segments = List.of(new Segment("big", 1, 1000, 500, false), new Segment("full", 2, 1000, 1000, false));
    Settings settings = new Settings(1.0, 1.0, 0.0, 0, 400, 0.95, Order.GREEDY);
    Plan plan = CleaningPolicy.plan(segments, true, settings);
    assertThat(plan.victims()).isEmpty();
    assertThat(plan.copyBytes()).isZero();
  }

  @Test
  void defaultsAreValidAndDocumented() {
    Settings d = Settings.defaults();
    assertThat(d.targetAmplification()).isEqualTo(1.2);
    assertThat(d.busyAmplification()).isEqualTo(1.6);
    assertThat(d.hysteresis()).isEqualTo(0.05);
    assertThat(d.minReclaim()).isEqualTo(16L << 20);
    assertThat(d.maxCopy()).isEqualTo(256L << 20);
    assertThat(d.maxUtilization()).isEqualTo(0.95);
    assertThat(d.order()).isEqualTo(Order.COST_BENEFIT);
  }

  @Test
  void badSettingsAreRefusedNamingTheField() {
    assertThatThrownBy(() -> new Settings(0.9, 1.6, 0.05, 0, 1, 0.95, Order.GREEDY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("targetAmplification").hasMessageContaining("0.9");
    assertThatThrownBy(() -> new Settings(Double.NaN, 1.6, 0.05, 0, 1, 0.95, Order.GREEDY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("targetAmplification");
    assertThatThrownBy(() -> new Settings(1.2, 0.5, 0.05, 0, 1, 0.95, Order.GREEDY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("busyAmplification");
    assertThatThrownBy(() -> new Settings(1.5, 1.2, 0.05, 0, 1, 0.95, Order.GREEDY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("busyAmplification")
        .hasMessageContaining("targetAmplification");
    assertThatThrownBy(() -> new Settings(1.2, 1.6, -0.1, 0, 1, 0.95, Order.GREEDY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hysteresis");
    assertThatThrownBy(() -> new Settings(1.2, 1.6, 0.05, -1, 1, 0.95, Order.GREEDY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minReclaim");
    assertThatThrownBy(() -> new Settings(1.2, 1.6, 0.05, 0, 0, 0.95, Order.GREEDY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxCopy");
    assertThatThrownBy(() -> new Settings(1.2, 1.6, 0.05, 0, 1, 0.0, Order.GREEDY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxUtilization");
    assertThatThrownBy(() -> new Settings(1.2, 1.6, 0.05, 0, 1, 1.5, Order.GREEDY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxUtilization");
    assertThatThrownBy(() -> new Settings(1.2, 1.6, 0.05, 0, 1, 0.95, null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("order");
  }

  @Test
  void badSegmentsAreRefusedNamingTheField() {
    assertThatThrownBy(() -> new Segment("x", 1, -1, 0, false)).hasMessageContaining("size");
    assertThatThrownBy(() -> new Segment("x", 1, 10, 11, false)).hasMessageContaining("liveBytes");
    assertThatThrownBy(() -> new Segment("x", 1, 10, -1, false)).hasMessageContaining("liveBytes");
  }
}
