package dev.remap.operator.disk;

import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.api.disk.VirtualDiskStatus.ImportStatus;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import dev.remap.engine.volume.SpaceReport;
import dev.remap.engine.volume.Usage;
import java.util.List;

/**
 * What the reconciler saw of the world around one VirtualDisk, reduced to what the status
 * builder needs. Gathering it does I/O; turning it into a status does not.
 *
 * @param pvc the disk's PVC
 * @param storageClassExists whether spec.storageClassName names an existing StorageClass
 * @param vm the VM attachment, when spec.vm is set and the PVC is bound
 * @param serial the serial given (or to be given) to the VM
 * @param snapshots the state of each spec.snapshots entry (empty until the PVC is bound)
 * @param error the message of a failed reconcile, or null
 * @param export the state of spec.export (see ExportPlan and TransferStatusBuilder), or null when none is asked
 * @param usage what the volume has served, as its owners published it in the store, or null
 * @param importStatus the state of spec.source.import (see ImportPlan), or null when the disk imports nothing
 * @param space the volume's space and whether its writes lack space, as its owner published it in
 *     the store, or null when unknown (not served yet, or no store configured)
 */
public record DiskObservation(long generation, Pvc pvc, boolean storageClassExists, String storageClassName,
    Vm vm, String serial, List<SnapshotStatus> snapshots, String error, ExportStatus export, Usage usage,
    ImportStatus importStatus, SpaceReport space) {

  public DiskObservation(long generation, Pvc pvc, boolean storageClassExists, String storageClassName,
      Vm vm, String serial, List<SnapshotStatus> snapshots, String error, ExportStatus export, Usage usage,
      ImportStatus importStatus) {
    this(generation, pvc, storageClassExists, storageClassName, vm, serial, snapshots, error, export, usage,
        importStatus, null);
  }

  public DiskObservation(long generation, Pvc pvc, boolean storageClassExists, String storageClassName,
      Vm vm, String serial, List<SnapshotStatus> snapshots, String error, ExportStatus export, Usage usage) {
    this(generation, pvc, storageClassExists, storageClassName, vm, serial, snapshots, error, export, usage, null);
  }

  public DiskObservation(long generation, Pvc pvc, boolean storageClassExists, String storageClassName,
      Vm vm, String serial, List<SnapshotStatus> snapshots, String error) {
    this(generation, pvc, storageClassExists, storageClassName, vm, serial, snapshots, error, null, null);
  }

  public DiskObservation(long generation, Pvc pvc, boolean storageClassExists, String storageClassName,
      Vm vm, String serial, List<SnapshotStatus> snapshots, String error, ExportStatus export) {
    this(generation, pvc, storageClassExists, storageClassName, vm, serial, snapshots, error, export, null);
  }

  public enum PvcPhase { ABSENT, FOREIGN, PENDING, BOUND, LOST }

  /** The PVC: its phase, bound volume, capacity and the newest event about it (why it is pending). */
  public record Pvc(String name, PvcPhase phase, String volumeHandle, String capacity, String lastEvent) {
    public static Pvc absent(String name) {
      return new Pvc(name, PvcPhase.ABSENT, null, null, null);
    }
  }

  /**
   * Where the disk stands with its VM. HOTPLUG_PENDING: KubeVirt took the addvolume request but
   * has not put the disk in the VM's spec yet. DETACHING: the disk waits to leave the VM it was
   * on (named by the Vm) before it goes to the one spec.vm asks for.
   */
  public enum VmState {
    NOT_REQUESTED, WAITING_FOR_PVC, KUBEVIRT_MISSING, NOT_FOUND, ATTACHED, HOTPLUG_PENDING, DETACHING, FAILED;

    /** Whether the disk is in (or on its way into, or still leaving) the VM: status.attachedTo names it. */
    public boolean onVm() {
      return this == ATTACHED || this == HOTPLUG_PENDING || this == DETACHING;
    }

    /** Whether what changes this state (a VM appearing, KubeVirt acting) sends the reconciler no event. */
    public boolean rechecked() {
      return this == NOT_FOUND || this == KUBEVIRT_MISSING || this == FAILED || this == HOTPLUG_PENDING
          || this == DETACHING;
    }
  }

  /** The VM side: which VM, what state, and a detail (why it failed or waits, or that it needs a restart). */
  public record Vm(String name, VmState state, String detail) {
    public static Vm notRequested() {
      return new Vm(null, VmState.NOT_REQUESTED, null);
    }
  }
}
