package dev.remap.operator.status;

import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Objects;

/** Whether two statuses differ as the API server would see them (their JSON), so unchanged ones are not patched. */
public final class StatusDiff {

  private StatusDiff() {}

  public static boolean changed(Object current, Object desired) {
    if (current == null || desired == null) {
      return !Objects.equals(current, desired);
    }
    return !Serialization.jsonMapper().valueToTree(current).equals(Serialization.jsonMapper().valueToTree(desired));
  }
}
