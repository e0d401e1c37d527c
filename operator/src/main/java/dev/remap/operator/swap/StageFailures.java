package dev.remap.operator.swap;

import io.fabric8.kubernetes.api.model.Event;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Why the node could not stage a swap disk, read from the kubelet's events on the VM's
 * virt-launcher pods. Pure: the events are listed by {@link LauncherEvents}.
 *
 * <p>The node's NodeStageVolume refusals (docs/CSI.md, "Swap volumes") reach Kubernetes only as
 * the kubelet's Warning events on the pod that uses the volume (FailedMapVolume, FailedMount),
 * whose message carries the gRPC description after {@code desc = }. That description is the only
 * channel from the node to the operator, so the kind of refusal is read from its words, which the
 * node plugin (csi-driver's SwapVolumes and SwapAttributes) writes on purpose: {@code PoolExhausted:}
 * first, {@code (spill.location)} or the attribute's name, {@code has no swap pool}.
 *
 * <p>Rule: among the events whose message names this disk (its PersistentVolume, which the kubelet
 * quotes as the volume, or its volume handle), the newest decides: a Warning is a failure, a
 * Normal (the kubelet's "MapVolume.MapPodDevice succeeded", a later attach) says it went through.
 * On equal times (the kubelet's timestamps have one-second steps) the Normal wins.
 */
final class StageFailures {

  /** Longest node sentence put into a condition: enough for every message the node plugin writes. */
  static final int MAX_SENTENCE = 480;
  static final String STAGE_FAILED = "StageFailed";
  static final String SPILL_LOCATION_INVALID = "SpillLocationInvalid";
  static final String NO_SWAP_POOL = "NoSwapPool";
  private static final String GRPC_DESC = "desc = ";

  private StageFailures() {}

  /**
   * The node's own sentence from the newest event naming this disk, when that event is a Warning;
   * empty when no event names it or the newest one is not a Warning.
   */
  static Optional<String> choose(List<Event> events, String pvName, String volumeHandle) {
    return events.stream()
        .filter(e -> e.getMessage() != null && (names(e.getMessage(), pvName) || names(e.getMessage(), volumeHandle)))
        .max(Comparator.comparing(StageFailures::time).thenComparing(e -> !"Warning".equals(e.getType())))
        .filter(e -> "Warning".equals(e.getType()))
        .map(e -> nodeSentence(e.getMessage()));
  }

  /** The gRPC description the kubelet quotes (the node plugin's sentence), cut to {@value #MAX_SENTENCE} characters. */
  static String nodeSentence(String kubeletMessage) {
    int at = kubeletMessage.lastIndexOf(GRPC_DESC);
    String sentence = (at < 0 ? kubeletMessage : kubeletMessage.substring(at + GRPC_DESC.length())).strip();
    return sentence.length() <= MAX_SENTENCE ? sentence : sentence.substring(0, MAX_SENTENCE - 1) + "…";
  }

  /** The condition reason for a node sentence: one per refusal the node plugin names, else StageFailed. */
  static String reason(String sentence) {
    if (sentence.startsWith(VmMemorySwapStatusBuilder.POOL_EXHAUSTED + ":")) {
      return VmMemorySwapStatusBuilder.POOL_EXHAUSTED;
    }
    if (sentence.contains("(spill.location)") || sentence.contains("remap.dev/swap-spill-location")) {
      return SPILL_LOCATION_INVALID;
    }
    if (sentence.contains("has no swap pool")) {
      return NO_SWAP_POOL;
    }
    return STAGE_FAILED;
  }

  /**
   * Whether text names this token as a whole: "swap/ns/s" is not named by "swap/ns/s2", nor
   * remap-swap-UID by a longer name.
   */
  static boolean names(String text, String token) {
    for (int at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + 1)) {
      int end = at + token.length();
      if ((at == 0 || !nameChar(text.charAt(at - 1))) && (end == text.length() || !nameChar(text.charAt(end)))) {
        return true;
      }
    }
    return false;
  }

  private static boolean nameChar(char c) {
    return Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '/' || c == '_';
  }

  /**
   * When the event last happened: series.lastObservedTime, lastTimestamp, eventTime, then
   * creationTimestamp, the first present (the kubelet's recorder fills lastTimestamp, the
   * events.k8s.io API eventTime and series).
   */
  static Instant time(Event e) {
    String[] candidates = {
        e.getSeries() == null || e.getSeries().getLastObservedTime() == null ? null
            : e.getSeries().getLastObservedTime().getTime(),
        e.getLastTimestamp(),
        e.getEventTime() == null ? null : e.getEventTime().getTime(),
        e.getMetadata() == null ? null : e.getMetadata().getCreationTimestamp()};
    for (String t : candidates) {
      if (t != null && !t.isEmpty()) {
        try {
          return Instant.parse(t);
        } catch (DateTimeParseException ignored) {
          // Not RFC 3339: try the next field rather than order by a time that cannot be read.
        }
      }
    }
    return Instant.EPOCH;
  }
}
