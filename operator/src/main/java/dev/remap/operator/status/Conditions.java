package dev.remap.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Standard Kubernetes conditions, built purely. A condition keeps its lastTransitionTime while
 * its status stays the same, so that rebuilding the status every reconcile does not look like a
 * change (and is not patched).
 */
public final class Conditions {

  public static final String TRUE = "True";
  public static final String FALSE = "False";

  private Conditions() {}

  /** What a condition should say now. */
  public record Desired(String type, boolean status, String reason, String message) {}

  /** The conditions for the desired ones, in their order, carrying over transition times from previous. */
  public static List<Condition> build(List<Condition> previous, long generation, Instant now, List<Desired> desired) {
    List<Condition> result = new ArrayList<>();
    for (Desired d : desired) {
      String status = d.status() ? TRUE : FALSE;
      String since = find(previous, d.type())
          .filter(old -> status.equals(old.getStatus()) && old.getLastTransitionTime() != null)
          .map(Condition::getLastTransitionTime)
          .orElse(now.truncatedTo(ChronoUnit.SECONDS).toString());
      result.add(new ConditionBuilder()
          .withType(d.type())
          .withStatus(status)
          .withReason(d.reason())
          .withMessage(d.message())
          .withObservedGeneration(generation)
          .withLastTransitionTime(since)
          .build());
    }
    return result;
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions == null ? Optional.empty()
        : conditions.stream().filter(c -> Objects.equals(type, c.getType())).findFirst();
  }

  public static boolean isTrue(List<Condition> conditions, String type) {
    return find(conditions, type).map(c -> TRUE.equals(c.getStatus())).orElse(false);
  }
}
