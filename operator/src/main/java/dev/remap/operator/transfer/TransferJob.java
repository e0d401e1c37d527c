package dev.remap.operator.transfer;

import java.util.List;

/**
 * One copy a Job does for a disk, decided purely from the disk's spec ({@link JobModel}).
 *
 * @param kind export or import
 * @param name the Job's name (and its credential Secret's): deterministic, so a restarted
 *     operator finds the Job it started instead of starting a second
 * @param diskNamespace the disk's namespace, where its user's Secret is
 * @param diskName the disk's name
 * @param diskUid the disk's uid (labels the Job, for cleanup)
 * @param args the `remap` command's arguments: no secret ever goes here
 * @param userSecret the Secret (in the disk's namespace) with the other store's credentials, or null
 * @param userField the spec field that named it, for error messages
 * @param userStoreUri the other store, as the status reports it
 */
public record TransferJob(Kind kind, String name, String diskNamespace, String diskName, String diskUid,
    List<String> args, String userSecret, String userField, String userStoreUri) {

  /** The two directions, with the environment prefix the CLI reads the user's store's credentials from. */
  public enum Kind {
    EXPORT("export", "REMAP_TO", "ExportFailed"),
    IMPORT("import", "REMAP_FROM", "ImportFailed");

    public final String label;
    public final String credentialsEnv;
    public final String failedReason;

    Kind(String label, String credentialsEnv, String failedReason) {
      this.label = label;
      this.credentialsEnv = credentialsEnv;
      this.failedReason = failedReason;
    }
  }
}
