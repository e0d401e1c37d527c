package dev.remap.operator.status;

import dev.remap.api.common.ConditionTypes;
import dev.remap.api.common.StatusBase;
import java.time.Instant;
import java.util.List;

/**
 * The honest status of a kind whose data plane does not exist yet: accepted and validated,
 * Progressing with reason NotImplemented, never Ready. Pure.
 */
public final class NotImplementedStatus {

  private NotImplementedStatus() {}

  public static <S extends StatusBase> S fill(S status, List<io.fabric8.kubernetes.api.model.Condition> previous,
      long generation, Instant now, String kind) {
    String message = kind + " is accepted and validated, but its data plane is not implemented yet in this"
        + " version of Remap; nothing is provisioned for it";
    status.observedGeneration = generation;
    status.conditions = Conditions.build(previous, generation, now, List.of(
        new Conditions.Desired(ConditionTypes.READY, false, ConditionTypes.REASON_NOT_IMPLEMENTED, message),
        new Conditions.Desired(ConditionTypes.PROGRESSING, true, ConditionTypes.REASON_NOT_IMPLEMENTED, message),
        new Conditions.Desired(ConditionTypes.DEGRADED, false, ConditionTypes.REASON_NOT_IMPLEMENTED, message)));
    return status;
  }
}
