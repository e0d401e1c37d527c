package dev.remap.operator.transfer;

import dev.remap.api.disk.ExportTarget;
import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What to do about a disk's spec.export, decided from what is known (pure). An export runs in
 * two passes: the first records that it starts (phase Exporting), the second writes it. So a
 * restart in the middle finds Exporting and writes again, and an export found complete then is
 * the operator's own (a store that already held one at the first pass is refused instead).
 */
public final class ExportPlan {

  public static final String PENDING = "Pending";
  public static final String EXPORTING = "Exporting";
  public static final String EXPORTED = "Exported";
  public static final String FAILED = "Failed";

  /** NONE: no export asked. WAIT, FAIL, KEEP: just report. START: check and record. RUN: write. */
  public enum Action { NONE, WAIT, FAIL, KEEP, START, RUN }

  /** The action and the export status to report meanwhile (null when no export is asked). */
  public record Decision(Action action, ExportStatus status) {}

  private ExportPlan() {}

  public static Decision decide(ExportTarget spec, List<SnapshotStatus> snapshots, ExportStatus previous,
      boolean storeConfigured) {
    if (spec == null) {
      return new Decision(Action.NONE, null);
    }
    boolean same = previous != null && Objects.equals(previous.snapshot, spec.snapshot)
        && Objects.equals(previous.storeUri, spec.storeUri);
    if (same && EXPORTED.equals(previous.phase)) {
      return new Decision(Action.KEEP, previous);
    }
    if (!storeConfigured) {
      return new Decision(Action.FAIL, status(spec, FAILED, "the operator is not given Remap's store (REMAP_STORE), "
          + "so it cannot read snapshots to export: set it as the CSI controller's --store"));
    }
    Optional<SnapshotStatus> snapshot = snapshots.stream().filter(s -> spec.snapshot.equals(s.name)).findFirst();
    if (snapshot.isEmpty() || !Boolean.TRUE.equals(snapshot.get().readyToUse)) {
      String why = snapshot.map(s -> s.error).map(e -> ", which failed: " + e).orElse(" to be ready to use");
      return new Decision(Action.WAIT, status(spec, PENDING, "waiting for snapshot " + spec.snapshot + why));
    }
    if (same && EXPORTING.equals(previous.phase)) {
      return new Decision(Action.RUN, previous);
    }
    // New, changed, or failed before: start (again). A failure is retried, as store outages pass.
    return new Decision(Action.START, status(spec, EXPORTING, "exporting snapshot " + spec.snapshot + " to "
        + spec.storeUri));
  }

  public static ExportStatus status(ExportTarget spec, String phase, String message) {
    ExportStatus s = new ExportStatus();
    s.snapshot = spec.snapshot;
    s.storeUri = spec.storeUri;
    s.phase = phase;
    s.message = message;
    return s;
  }
}
