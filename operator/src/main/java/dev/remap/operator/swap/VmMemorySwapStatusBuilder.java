package dev.remap.operator.swap;

import static dev.remap.api.common.ConditionTypes.DEGRADED;
import static dev.remap.api.common.ConditionTypes.PROGRESSING;
import static dev.remap.api.common.ConditionTypes.READY;

import dev.remap.api.swap.VmMemorySwapStatus;
import dev.remap.operator.disk.DiskObservation.Vm;
import dev.remap.operator.status.Conditions;
import dev.remap.operator.status.Conditions.Desired;
import dev.remap.operator.swap.SwapObservation.Volume;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;

/**
 * Builds a VmMemorySwap's status from an observation. Pure. The first thing that keeps the swap
 * disk from its VM decides the Ready reason; the message names the field or object to act on.
 *
 * <p>A node that refuses to stage the disk (its sentence in {@link SwapObservation#stageFailure})
 * makes Ready False and Degraded True with the reason of {@link StageFailures#reason}:
 * SpillLocationInvalid, PoolExhausted, NoSwapPool or StageFailed.
 *
 * <p>Conditions: Ready, Progressing, Degraded, and LiveMigratable, always False with reason
 * NodeLocalSwap (the pages live on one node and the PVC is ReadWriteOnce).
 *
 * <p>Counters (residentBytes, swapOuts, ..., bytesCopied) are copied from the observation's
 * {@link SwapFigures}, all ten or none. The reconciler reads them from the CSI node plugin on the
 * node that runs the VM ({@link NodeSwapFigures}) at each reconcile (every 30 s once settled):
 * <ul>
 *   <li>the node serves the disk: its counters, the disk's own totals since it was staged there;
 *   <li>no node runs the VM, or the node answers without the disk (not staged, or refused):
 *       none, since the disk and its pages exist nowhere; absent, not zeros that would claim idleness;
 *   <li>the node's plugin cannot be found, reached within 3 s or understood: the counters status
 *       showed last, unchanged ({@link SwapReading#orLast}), until it answers or the VM stops; the
 *       operator logs why. A failed reconcile keeps them too.
 * </ul>
 */
public final class VmMemorySwapStatusBuilder {

  public static final String LIVE_MIGRATABLE = "LiveMigratable";
  public static final String NODE_LOCAL_SWAP = "NodeLocalSwap";
  public static final String VM_NOT_FOUND = "VmNotFound";
  public static final String POOL_EXHAUSTED = "PoolExhausted";
  public static final String ATTACHED = "Attached";

  private VmMemorySwapStatusBuilder() {}

  /** What the three standard conditions say. */
  record Verdict(boolean ready, boolean progressing, boolean degraded, String reason, String message) {}

  public static VmMemorySwapStatus build(SwapObservation o, List<Condition> previous, Instant now) {
    Verdict v = verdict(o);
    VmMemorySwapStatus s = new VmMemorySwapStatus();
    s.observedGeneration = o.generation();
    boolean made = o.volume() != Volume.NOT_MADE && o.volume() != Volume.ABSENT && o.volume() != Volume.FOREIGN;
    s.pvcName = made ? o.pvcName() : null;
    s.volumeName = made ? o.pvName() : null;
    s.attachedTo = o.vm().state().onVm() ? o.vm().name() : null;
    o.figures().ifPresent(f -> f.copyTo(s));
    s.conditions = Conditions.build(previous, o.generation(), now, List.of(
        new Desired(READY, v.ready(), v.reason(), v.message()),
        new Desired(PROGRESSING, v.progressing(), v.progressing() ? v.reason() : "Done",
            v.progressing() ? v.message() : "Nothing to do"),
        new Desired(DEGRADED, v.degraded(), v.degraded() ? v.reason() : "AsExpected",
            v.degraded() ? v.message() : "No problem found"),
        new Desired(LIVE_MIGRATABLE, false, NODE_LOCAL_SWAP, "VirtualMachine " + o.vm().name()
            + " has a swap disk whose pages live in the memory of the node that runs it, and its PVC "
            + o.pvcName() + " is ReadWriteOnce: it cannot be live-migrated, and KubeVirt refuses to."
            + " Stop and start the VM to move it; its swap starts empty, as after any reboot")));
    return s;
  }

  static Verdict verdict(SwapObservation o) {
    Vm vm = o.vm();
    if (o.error() != null) {
      return new Verdict(false, true, true, "ReconcileError", "The last reconcile failed and will be retried: " + o.error());
    }
    if (o.aboveCap()) {
      return new Verdict(false, false, true, POOL_EXHAUSTED, o.pool());
    }
    if (o.volume() == Volume.FOREIGN) {
      return new Verdict(false, false, true, "VolumeConflict", "PersistentVolumeClaim " + o.pvcName()
          + " or PersistentVolume " + o.pvName() + " already exists and does not belong to this VmMemorySwap:"
          + " delete or rename it, or rename the swap");
    }
    if (o.volume() == Volume.LOST) {
      return new Verdict(false, false, true, "PvcLost", "PersistentVolumeClaim " + o.pvcName()
          + " lost its PersistentVolume " + o.pvName() + "; delete the VmMemorySwap and create it again");
    }
    switch (vm.state()) {
      case NOT_FOUND:
        return new Verdict(false, true, false, VM_NOT_FOUND, "VirtualMachine " + vm.name()
            + " (spec.vmName) does not exist in this namespace; the swap disk is attached to it when it does");
      case KUBEVIRT_MISSING:
        return new Verdict(false, true, false, "KubeVirtNotInstalled",
            "The API server does not serve kubevirt.io/v1 VirtualMachines: install KubeVirt");
      default:
        break;
    }
    if (o.stageFailure() != null) {
      // The node's own word, from the kubelet: it beats the operator's forecast below. The kubelet
      // retries, but the cause (the node's directory, its pool) is for a person to fix.
      return new Verdict(false, false, true, StageFailures.reason(o.stageFailure()), "The node that runs VirtualMachine "
          + vm.name() + " could not stage its swap disk (PersistentVolume " + o.pvName() + "); the kubelet reports: "
          + o.stageFailure());
    }
    if (o.pool() != null) {
      // Attached, but the node its VM runs on has no room for it: the node refuses to stage it.
      return new Verdict(false, false, true, POOL_EXHAUSTED, o.pool());
    }
    if (o.volume() == Volume.ABSENT) {
      return new Verdict(false, true, false, "CreatingVolume", "Creating PersistentVolume " + o.pvName()
          + " and PersistentVolumeClaim " + o.pvcName());
    }
    if (o.volume() == Volume.PENDING) {
      return new Verdict(false, true, false, "WaitingForVolume", "PersistentVolumeClaim " + o.pvcName()
          + " is not bound to PersistentVolume " + o.pvName() + " yet (kube-controller-manager binds them)");
    }
    return switch (vm.state()) {
      case FAILED -> new Verdict(false, true, true, "AttachFailed",
          "Attaching to VirtualMachine " + vm.name() + " failed and will be retried: " + vm.detail());
      case HOTPLUG_PENDING -> new Verdict(false, true, false, "HotplugPending", "Hotplug of " + o.pvcName()
          + " into running VirtualMachine " + vm.name() + " is requested; waiting for KubeVirt to add it");
      case DETACHING -> new Verdict(false, true, false, "Detaching",
          "Leaving VirtualMachine " + vm.name() + ": " + vm.detail());
      case ATTACHED -> new Verdict(true, false, false, ATTACHED, "PersistentVolumeClaim " + o.pvcName()
          + " (PersistentVolume " + o.pvName() + ") is a disk of VirtualMachine " + vm.name()
          + (vm.detail() != null ? "; " + vm.detail() : ""));
      default -> new Verdict(false, true, false, "WaitingForVolume", "PersistentVolumeClaim " + o.pvcName()
          + " is not bound yet");
    };
  }
}
