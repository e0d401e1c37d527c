package dev.remap.operator.share;

import dev.remap.api.share.LogicalDiskShare;
import dev.remap.api.share.LogicalDiskShareStatus;
import dev.remap.operator.status.NotImplementedStatus;
import dev.remap.operator.status.StatusDiff;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Instant;
import java.util.List;

/**
 * LogicalDiskShare: validated by the API server, reported honestly as NotImplemented until the
 * share controller (seed 004) exists. It never claims Ready.
 */
@ControllerConfiguration(name = LogicalDiskShareReconciler.NAME)
public class LogicalDiskShareReconciler implements Reconciler<LogicalDiskShare> {

  public static final String NAME = "logicaldiskshare";

  @Override
  public UpdateControl<LogicalDiskShare> reconcile(LogicalDiskShare share, Context<LogicalDiskShare> context) {
    LogicalDiskShareStatus previous = share.getStatus();
    LogicalDiskShareStatus status = NotImplementedStatus.fill(new LogicalDiskShareStatus(),
        previous == null ? List.of() : previous.conditions, share.getMetadata().getGeneration(), Instant.now(),
        LogicalDiskShare.KIND);
    status.connected = false;
    status.diskCount = 0;
    if (!StatusDiff.changed(previous, status)) {
      return UpdateControl.noUpdate();
    }
    share.setStatus(status);
    return UpdateControl.patchStatus(share);
  }
}
