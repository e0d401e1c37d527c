package dev.remap.operator.transfer;

import dev.remap.api.disk.ExportTarget;
import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import java.util.List;
import java.util.Optional;

/**
 * What to do about a disk's spec.export, decided from what is known (pure). The copy is a Job
 * whose name derives from the disk and the export ({@link JobModel#exportJobName}): the status
 * records that name, so "the same export" is "the same Job name", and a restarted operator
 * observes the Job it started instead of starting a second.
 */
public final class ExportPlan {

  /**
   * NONE: no export asked. REPORT: just report status (waiting, or a configuration failure).
   * KEEP: the export finished; nothing to do. CLEAN_UP: it finished and the status says so:
   * delete its Job. START: create the Job. OBSERVE: the Job exists; report on it.
   */
  public enum Action { NONE, REPORT, KEEP, CLEAN_UP, START, OBSERVE }

  /** The action and the export status to report meanwhile (null when no export is asked). */
  public record Decision(Action action, ExportStatus status) {}

  private ExportPlan() {}

  /**
   * @param jobName the Job this spec.export asks for
   * @param jobExists whether that Job exists (the informer's cache)
   */
  public static Decision decide(ExportTarget spec, List<SnapshotStatus> snapshots, ExportStatus previous,
      boolean storeConfigured, String jobName, boolean jobExists) {
    if (spec == null) {
      return new Decision(Action.NONE, null);
    }
    boolean same = previous != null && jobName.equals(previous.jobName);
    if (same && TransferStatusBuilder.SUCCEEDED.equals(previous.phase)) {
      return new Decision(jobExists ? Action.CLEAN_UP : Action.KEEP, previous);
    }
    if (!storeConfigured) {
      return new Decision(Action.REPORT, status(spec, null, TransferStatusBuilder.FAILED, "the operator is not given "
          + "Remap's store (REMAP_STORE), so it cannot export snapshots: set it as the CSI controller's --store"));
    }
    if (jobExists && same && TransferStatusBuilder.FAILED.equals(previous.phase)) {
      // A failed Job stays failed; it is kept (with its pods' logs) until the user deletes it to retry.
      return new Decision(Action.KEEP, previous);
    }
    if (jobExists) {
      // A fresh status: the builder fills it from the Job, carrying the previous numbers over.
      return new Decision(Action.OBSERVE, status(spec, jobName, TransferStatusBuilder.PENDING, null));
    }
    Optional<SnapshotStatus> snapshot = snapshots.stream().filter(s -> spec.snapshot.equals(s.name)).findFirst();
    if (snapshot.isEmpty() || !Boolean.TRUE.equals(snapshot.get().readyToUse)) {
      String why = snapshot.map(s -> s.error).map(e -> ", which failed: " + e).orElse(" to be ready to use");
      return new Decision(Action.REPORT, status(spec, null, TransferStatusBuilder.PENDING,
          "waiting for snapshot " + spec.snapshot + why));
    }
    // New, changed, never started, or its failed Job was deleted to try again.
    return new Decision(Action.START, status(spec, jobName, TransferStatusBuilder.PENDING, null));
  }

  public static ExportStatus status(ExportTarget spec, String jobName, String phase, String message) {
    ExportStatus s = new ExportStatus();
    s.snapshot = spec.snapshot;
    s.storeUri = spec.storeUri;
    s.jobName = jobName;
    s.phase = phase;
    s.message = message;
    return s;
  }
}
