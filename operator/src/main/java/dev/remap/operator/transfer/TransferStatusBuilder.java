package dev.remap.operator.transfer;

import dev.remap.api.disk.VirtualDiskStatus.TransferStatus;
import dev.remap.operator.transfer.ProgressParser.Progress;
import java.util.Optional;

/**
 * The status of an export or import from what was seen of its Job (pure). The Job's conditions
 * say whether it finished; the pod's stdout says how far it got; on failure its termination
 * message (one sentence from the CLI) says why.
 */
public final class TransferStatusBuilder {

  public static final String PENDING = "Pending";
  public static final String RUNNING = "Running";
  public static final String SUCCEEDED = "Succeeded";
  public static final String FAILED = "Failed";

  private TransferStatusBuilder() {}

  /**
   * Fills s for the Job named jobName in namespace.
   *
   * @param job the Job, or null right after it was created
   * @param log the newest progress its pod printed (log tail), if any
   * @param terminationMessage the pod's termination message once it ended, or null
   * @param previous the status reported before (its numbers are kept while the log is silent)
   */
  public static <S extends TransferStatus> S build(S s, String storeUri, String namespace, String jobName, JobView job,
      Optional<Progress> log, String terminationMessage, TransferStatus previous) {
    s.storeUri = storeUri;
    s.jobName = jobName;
    String where = "Job " + namespace + "/" + jobName;
    Optional<Progress> outcome = ProgressParser.last(terminationMessage);
    Optional<Progress> progress = outcome.isPresent() ? outcome : log;
    if (progress.isPresent()) {
      s.bytes = progress.get().copied();
      s.totalBytes = progress.get().total();
      s.percent = progress.get().percent();
    } else if (previous != null && jobName.equals(previous.jobName)) {
      s.bytes = previous.bytes;
      s.totalBytes = previous.totalBytes;
      s.percent = previous.percent;
    }
    if (job == null) {
      s.phase = PENDING;
      s.message = where + " created; waiting for its pod to start";
    } else if (job.succeeded()) {
      s.phase = SUCCEEDED;
      s.percent = 100;
      s.completionTime = job.completionTime();
      boolean existing = progress.map(Progress::existing).orElse(false);
      s.message = existing ? "the target held this copy already (" + where + ")"
          : "copied " + (s.bytes == null ? "all" : s.bytes + " bytes") + " (" + where + ")";
    } else if (job.failed()) {
      s.phase = FAILED;
      s.completionTime = job.completionTime();
      String reason = terminationMessage != null && !terminationMessage.isBlank() && outcome.isEmpty()
          ? terminationMessage.strip() : job.failure();
      s.message = (reason == null ? "the Job failed" : reason) + " (" + where + "; delete it, or change the spec, to try again)";
    } else if (progress.isPresent() || job.podRunning()) {
      s.phase = RUNNING;
      s.message = progress.map(p -> "copying: " + p.copied() + " of " + p.total() + " bytes (" + p.percent() + "%)")
          .orElse("started") + " (" + where + ")";
    } else {
      s.phase = PENDING;
      s.message = "waiting for the pod of " + where + " to start";
    }
    return s;
  }

  public static boolean active(TransferStatus s) {
    return s != null && (PENDING.equals(s.phase) || RUNNING.equals(s.phase)) && s.jobName != null;
  }
}
