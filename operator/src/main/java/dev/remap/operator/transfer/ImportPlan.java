package dev.remap.operator.transfer;

import dev.remap.api.disk.ImportSource;
import dev.remap.api.disk.VirtualDiskStatus.ImportStatus;

/**
 * What to do about a disk's spec.source.import (pure): a Job imports the export into Remap's
 * store as the volume remap-import-UID20; once it succeeded the operator makes the
 * PersistentVolume the disk's PVC waits for, and then deletes the Job. A PersistentVolume that
 * exists is the proof the import is done, whatever the status says (it is made last).
 */
public final class ImportPlan {

  /** As ExportPlan's: OBSERVE also makes the PersistentVolume once the Job succeeded. */
  public enum Action { NONE, REPORT, KEEP, CLEAN_UP, START, OBSERVE }

  public record Decision(Action action, ImportStatus status) {}

  private ImportPlan() {}

  public static Decision decide(ImportSource source, boolean volumeExists, ImportStatus previous, boolean storeConfigured,
      String jobName, boolean jobExists) {
    if (source == null) {
      return new Decision(Action.NONE, null);
    }
    boolean same = previous != null && jobName.equals(previous.jobName);
    if (volumeExists) {
      ImportStatus done = same && TransferStatusBuilder.SUCCEEDED.equals(previous.phase) ? previous
          : status(source, jobName, TransferStatusBuilder.SUCCEEDED, "imported as PersistentVolume " + jobName);
      return new Decision(jobExists ? Action.CLEAN_UP : Action.KEEP, done);
    }
    if (!storeConfigured) {
      return new Decision(Action.REPORT, status(source, null, TransferStatusBuilder.FAILED, "the operator is not "
          + "given Remap's store (REMAP_STORE), so it cannot import: set it as the CSI controller's --store"));
    }
    if (jobExists && same && TransferStatusBuilder.FAILED.equals(previous.phase)) {
      // A failed Job stays failed; it is kept (with its pods' logs) until the user deletes it to retry.
      return new Decision(Action.KEEP, previous);
    }
    if (jobExists) {
      // A fresh status: the builder fills it from the Job, carrying the previous numbers over.
      return new Decision(Action.OBSERVE, status(source, jobName, TransferStatusBuilder.PENDING, null));
    }
    return new Decision(Action.START, status(source, jobName, TransferStatusBuilder.PENDING, null));
  }

  public static ImportStatus status(ImportSource source, String jobName, String phase, String message) {
    ImportStatus s = new ImportStatus();
    s.storeUri = source.storeUri;
    s.jobName = jobName;
    s.phase = phase;
    s.message = message;
    return s;
  }
}
