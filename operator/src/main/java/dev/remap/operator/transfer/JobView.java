package dev.remap.operator.transfer;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.util.List;
import java.util.Optional;

/**
 * A transfer Job as the status needs it, read purely from the Job object: whether it finished
 * and how (the Job controller's Complete / Failed conditions), whether a pod runs, and when it
 * ended. The pod's words (log tail, termination message) are gathered apart, by the glue.
 */
public record JobView(String name, boolean succeeded, boolean failed, String failure, boolean podRunning,
    String completionTime) {

  public boolean finished() {
    return succeeded || failed;
  }

  public static JobView of(Job job) {
    var status = job.getStatus();
    List<JobCondition> conditions = status == null || status.getConditions() == null ? List.of() : status.getConditions();
    boolean complete = has(conditions, "Complete").isPresent()
        || status != null && status.getSucceeded() != null && status.getSucceeded() > 0;
    Optional<JobCondition> failed = has(conditions, "Failed");
    String failure = failed.map(c -> c.getReason() + (c.getMessage() == null ? "" : ": " + c.getMessage())).orElse(null);
    boolean running = status != null && status.getReady() != null && status.getReady() > 0;
    String end = status == null ? null : status.getCompletionTime();
    if (end == null) {
      end = failed.map(JobCondition::getLastTransitionTime).orElse(null);
    }
    return new JobView(job.getMetadata().getName(), complete && failed.isEmpty(), failed.isPresent(), failure, running, end);
  }

  private static Optional<JobCondition> has(List<JobCondition> conditions, String type) {
    return conditions.stream().filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus())).findFirst();
  }
}
