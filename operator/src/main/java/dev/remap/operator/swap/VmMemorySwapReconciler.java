package dev.remap.operator.swap;

import dev.remap.api.swap.VmMemorySwap;
import dev.remap.api.swap.VmMemorySwapStatus;
import dev.remap.operator.status.NotImplementedStatus;
import dev.remap.operator.status.StatusDiff;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Instant;
import java.util.List;

/**
 * VmMemorySwap: validated by the API server, reported honestly as NotImplemented until the
 * memory-pool volume class (seed 000) exists. It never claims Ready.
 */
@ControllerConfiguration(name = VmMemorySwapReconciler.NAME)
public class VmMemorySwapReconciler implements Reconciler<VmMemorySwap> {

  public static final String NAME = "vmmemoryswap";

  @Override
  public UpdateControl<VmMemorySwap> reconcile(VmMemorySwap swap, Context<VmMemorySwap> context) {
    VmMemorySwapStatus previous = swap.getStatus();
    VmMemorySwapStatus status = NotImplementedStatus.fill(new VmMemorySwapStatus(),
        previous == null ? List.of() : previous.conditions, swap.getMetadata().getGeneration(), Instant.now(),
        VmMemorySwap.KIND);
    if (!StatusDiff.changed(previous, status)) {
      return UpdateControl.noUpdate();
    }
    swap.setStatus(status);
    return UpdateControl.patchStatus(swap);
  }
}
