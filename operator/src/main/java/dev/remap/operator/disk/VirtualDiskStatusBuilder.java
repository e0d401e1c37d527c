package dev.remap.operator.disk;

import static dev.remap.api.common.ConditionTypes.DEGRADED;
import static dev.remap.api.common.ConditionTypes.NO_SPACE;
import static dev.remap.api.common.ConditionTypes.PROGRESSING;
import static dev.remap.api.common.ConditionTypes.READY;

import dev.remap.api.disk.VirtualDiskStatus;
import dev.remap.api.disk.VirtualDiskStatus.ImportStatus;
import dev.remap.engine.volume.SpaceReport;
import dev.remap.operator.disk.DiskObservation.PvcPhase;
import dev.remap.operator.status.Conditions;
import dev.remap.operator.status.Conditions.Desired;
import dev.remap.operator.transfer.TransferStatusBuilder;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a VirtualDisk's status from an observation. Pure, so every "why is my disk stuck"
 * answer is unit-tested. The first thing that blocks progress decides the reason; the message
 * says what the user can do about it.
 */
public final class VirtualDiskStatusBuilder {

  public static final String PHASE_PENDING = "Pending";
  public static final String PHASE_PROVISIONING = "Provisioning";
  public static final String PHASE_BOUND = "Bound";
  public static final String PHASE_ATTACHED = "Attached";
  public static final String PHASE_FAILED = "Failed";

  private VirtualDiskStatusBuilder() {}

  /** A reason and message for each of the three conditions, plus the phase they imply. */
  record Verdict(String phase, boolean ready, boolean progressing, boolean degraded, String reason, String message,
      String degradedReason, String degradedMessage, String progressingReason, String progressingMessage) {
    Verdict(String phase, boolean ready, boolean progressing, boolean degraded, String reason, String message) {
      this(phase, ready, progressing, degraded, reason, message, reason, message);
    }

    Verdict(String phase, boolean ready, boolean progressing, boolean degraded, String reason, String message,
        String degradedReason, String degradedMessage) {
      this(phase, ready, progressing, degraded, reason, message, degradedReason, degradedMessage, reason, message);
    }

    /** The same verdict, with Progressing True for a copy at work (the disk's own state is unchanged). */
    Verdict copying(String why, String what) {
      return new Verdict(phase, ready, true, degraded, reason, message, degradedReason, degradedMessage, why, what);
    }
  }

  public static VirtualDiskStatus build(DiskObservation o, List<Condition> previous, Instant now) {
    Verdict v = verdict(o);
    VirtualDiskStatus s = new VirtualDiskStatus();
    s.observedGeneration = o.generation();
    s.phase = v.phase();
    s.pvcName = o.pvc().phase() == PvcPhase.ABSENT || o.pvc().phase() == PvcPhase.FOREIGN ? null : o.pvc().name();
    s.volumeHandle = o.pvc().volumeHandle();
    s.capacity = o.pvc().capacity();
    s.serial = o.serial();
    s.attachedTo = o.vm().state().onVm() ? o.vm().name() : null;
    s.snapshots = new ArrayList<>(o.snapshots());
    s.export = o.export();
    s.importStatus = o.importStatus();
    if (o.usage() != null) {
      // The disk tier's counters are the node's, shared by its volumes: not reported per disk.
      s.io = new VirtualDiskStatus.IoSummary();
      s.io.reads = o.usage().reads();
      s.io.writes = o.usage().writes();
      s.io.readBytes = o.usage().readBytes();
      s.io.writtenBytes = o.usage().writtenBytes();
      s.cache = new VirtualDiskStatus.CacheSummary();
      s.cache.ramHits = o.usage().ramHits();
      s.cache.ramMisses = o.usage().ramMisses();
    }
    s.space = space(o.space());
    String idle = "Nothing to do";
    List<Desired> desired = new ArrayList<>();
    desired.add(new Desired(READY, v.ready(), v.reason(), v.message()));
    desired.add(new Desired(PROGRESSING, v.progressing(), v.progressing() ? v.progressingReason() : "Done",
        v.progressing() ? v.progressingMessage() : idle));
    desired.add(new Desired(DEGRADED, v.degraded(), v.degraded() ? v.degradedReason() : "AsExpected",
        v.degraded() ? v.degradedMessage() : "No problem found"));
    desired.add(noSpace(o.space()));
    s.conditions = Conditions.build(previous, o.generation(), now, desired);
    return s;
  }

  /** status.space: only once the volume's owner has measured it. */
  private static VirtualDiskStatus.SpaceSummary space(SpaceReport report) {
    if (report == null || !report.measured()) {
      return null;
    }
    VirtualDiskStatus.SpaceSummary space = new VirtualDiskStatus.SpaceSummary();
    space.liveBytes = report.liveBytes();
    space.storedBytes = report.storedBytes();
    space.amplification = report.amplificationText();
    space.cleanedBytes = report.cleanedBytes();
    return space;
  }

  private static Desired noSpace(SpaceReport report) {
    if (report == null) {
      return new Desired(NO_SPACE, false, "NotReported",
          "No node serving the disk has reported on its space yet (or the operator has no REMAP_STORE to read it from)");
    }
    if (report.noSpace() == null) {
      return new Desired(NO_SPACE, false, "SpaceAvailable", "The disk's writes are not short of space");
    }
    return new Desired(NO_SPACE, true, "NoSpace", report.noSpace());
  }

  static Verdict verdict(DiskObservation o) {
    Verdict v = diskVerdict(o);
    List<String> failed = o.snapshots().stream().filter(x -> x.error != null)
        .map(x -> x.name + ": " + x.error).toList();
    if (v.degraded()) {
      return v;
    }
    if (TransferStatusBuilder.active(o.export()) && !v.progressing()) {
      // The disk is as usable while its snapshot is copied; Progressing says a Job is at work.
      v = v.copying("Exporting", "Exporting snapshot " + o.export().snapshot + " to " + o.export().storeUri + ": "
          + o.export().message);
    }
    if (o.space() != null && o.space().noSpace() != null) {
      // Reads go on and writes resume once space is freed: Ready stands, Degraded says why.
      return new Verdict(v.phase(), v.ready(), v.progressing(), true, v.reason(), v.message(), "NoSpace",
          "Writes to the disk fail for want of space: " + o.space().noSpace(), v.progressingReason(),
          v.progressingMessage());
    }
    if (failed.isEmpty()) {
      if (o.export() == null || !TransferStatusBuilder.FAILED.equals(o.export().phase)) {
        return v;
      }
      return new Verdict(v.phase(), v.ready(), v.progressing(), true, v.reason(), v.message(), "ExportFailed",
          o.export().message, v.progressingReason(), v.progressingMessage());
    }
    // A failed snapshot does not make the disk unusable: Ready stands, Degraded says why.
    return new Verdict(v.phase(), v.ready(), v.progressing(), true, v.reason(), v.message(), "SnapshotFailed",
        "Snapshots failed: " + String.join("; ", failed), v.progressingReason(), v.progressingMessage());
  }

  private static Verdict diskVerdict(DiskObservation o) {
    DiskObservation.Pvc pvc = o.pvc();
    if (o.error() != null) {
      return new Verdict(PHASE_FAILED, false, true, true, "ReconcileError",
          "The last reconcile failed and will be retried: " + o.error());
    }
    if (pvc.phase() == PvcPhase.FOREIGN) {
      return new Verdict(PHASE_FAILED, false, false, true, "PvcConflict", "PersistentVolumeClaim " + pvc.name()
          + " already exists and does not belong to this VirtualDisk: delete or rename it, or rename the disk");
    }
    if (pvc.phase() == PvcPhase.LOST) {
      return new Verdict(PHASE_FAILED, false, false, true, "PvcLost", "PersistentVolumeClaim " + pvc.name()
          + " lost its PersistentVolume; the data is no longer reachable through it");
    }
    if (!o.storageClassExists() && pvc.phase() != PvcPhase.BOUND) {
      return new Verdict(PHASE_PENDING, false, true, false, "StorageClassNotFound", "StorageClass "
          + o.storageClassName() + " does not exist: install Remap's Helm chart or set spec.storageClassName");
    }
    if (pvc.phase() == PvcPhase.ABSENT) {
      return new Verdict(PHASE_PENDING, false, true, false, "CreatingPvc",
          "Creating PersistentVolumeClaim " + pvc.name());
    }
    if (pvc.phase() == PvcPhase.PENDING && o.importStatus() != null) {
      ImportStatus i = o.importStatus();
      if (TransferStatusBuilder.FAILED.equals(i.phase)) {
        return new Verdict(PHASE_FAILED, false, false, true, "ImportFailed", "Importing " + i.storeUri + " failed: "
            + i.message);
      }
      if (!TransferStatusBuilder.SUCCEEDED.equals(i.phase)) {
        return new Verdict(PHASE_PROVISIONING, false, true, false, "Importing", "Importing " + i.storeUri + ": "
            + i.message);
      }
    }
    if (pvc.phase() == PvcPhase.PENDING) {
      String why = pvc.lastEvent() != null ? ": " + pvc.lastEvent()
          : ": no provisioner has acted on it yet (is Remap's CSI controller running?)";
      return new Verdict(PHASE_PROVISIONING, false, true, false, "WaitingForVolume",
          "PersistentVolumeClaim " + pvc.name() + " is Pending" + why);
    }
    DiskObservation.Vm vm = o.vm();
    return switch (vm.state()) {
      case NOT_REQUESTED, WAITING_FOR_PVC -> new Verdict(PHASE_BOUND, true, false, false, "Bound",
          "PersistentVolumeClaim " + pvc.name() + " is bound; no VM is asked for in spec.vm");
      case KUBEVIRT_MISSING -> new Verdict(PHASE_BOUND, false, true, false, "KubeVirtNotInstalled",
          "The disk is bound, but the API server does not serve kubevirt.io/v1 VirtualMachines: install KubeVirt");
      case NOT_FOUND -> new Verdict(PHASE_BOUND, false, true, false, "VirtualMachineNotFound",
          "The disk is bound; VirtualMachine " + vm.name() + " does not exist in this namespace yet,"
              + " and the disk is attached when it does");
      case FAILED -> new Verdict(PHASE_BOUND, false, true, true, "AttachFailed",
          "Attaching to VirtualMachine " + vm.name() + " failed and will be retried: " + vm.detail());
      case HOTPLUG_PENDING -> new Verdict(PHASE_BOUND, true, true, false, "HotplugPending",
          "Hotplug into running VirtualMachine " + vm.name() + " with serial " + o.serial()
              + " is requested; waiting for KubeVirt to add the disk to the VM (its status.volumeRequests)");
      case DETACHING -> new Verdict(PHASE_BOUND, true, true, false, "Detaching",
          "Leaving VirtualMachine " + vm.name() + " before attaching elsewhere: " + vm.detail());
      case ATTACHED -> new Verdict(PHASE_ATTACHED, true, false, false, "Attached",
          "In the spec of VirtualMachine " + vm.name() + " with serial " + o.serial()
              + (vm.detail() != null ? "; " + vm.detail() : ""));
    };
  }
}
