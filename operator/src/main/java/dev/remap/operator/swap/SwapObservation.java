package dev.remap.operator.swap;

import dev.remap.operator.disk.DiskObservation.Vm;
import java.util.Optional;

/**
 * What the reconciler saw of the world around one VmMemorySwap, reduced to what the status
 * builder needs. Gathering it does I/O; turning it into a status does not.
 *
 * @param pvName the PersistentVolume's name (remap-swap-UID)
 * @param pvcName the PVC's name (NAME-swap)
 * @param volume where the PV and PVC stand
 * @param vm where the swap disk stands with spec.vmName (a VirtualDisk's VM states)
 * @param pool why the swap does not fit its node's pool (PoolExhausted), or null when it does
 * @param aboveCap whether pool says that memoryLimit alone is above the cap (then nothing is made)
 * @param figures the swap disk's counters to show: its node's, or the last ones when that node did not answer
 * @param error the message of a failed reconcile, or null
 * @param stageFailure the node's own sentence saying why it could not stage the disk (a kubelet
 *     Warning event on the VM's pod, {@link StageFailures}), or null when none or the node serves it
 */
public record SwapObservation(long generation, String pvName, String pvcName, Volume volume, Vm vm, String pool,
    boolean aboveCap, Optional<SwapFigures> figures, String error, String stageFailure) {

  /**
   * NOT_MADE: the operator makes no volume (memoryLimit is above the cap). FOREIGN: a PVC or PV
   * of that name exists and is not this swap's. PENDING: made, the PVC is not bound yet.
   */
  public enum Volume { NOT_MADE, ABSENT, FOREIGN, PENDING, BOUND, LOST }
}
