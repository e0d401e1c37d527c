package dev.remap.operator.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.disk.VirtualDiskStatus;
import dev.remap.engine.volume.SpaceReport;
import dev.remap.operator.disk.DiskObservation.Pvc;
import dev.remap.operator.disk.DiskObservation.PvcPhase;
import dev.remap.operator.disk.DiskObservation.Vm;
import dev.remap.operator.disk.DiskObservation.VmState;
import dev.remap.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class VirtualDiskStatusBuilderTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final Instant T1 = Instant.parse("2026-01-01T00:05:00Z");
  static final Pvc PENDING = new Pvc("d", PvcPhase.PENDING, null, null,
      "ExternalProvisioning: Waiting for a volume to be created by the external provisioner 'csi.remap.dev'");
  static final Pvc BOUND = new Pvc("d", PvcPhase.BOUND, "vol-1", "10Gi", null);

  static DiskObservation obs(Pvc pvc, boolean classExists, Vm vm, String error) {
    return new DiskObservation(4, pvc, classExists, "remap", vm, "serial1", List.of(), error);
  }

  static Condition condition(VirtualDiskStatus s, String type) {
    return Conditions.find(s.conditions, type).orElseThrow();
  }

  static void assertConditions(VirtualDiskStatus s, String ready, String progressing, String degraded, String reason) {
    assertThat(condition(s, "Ready").getStatus()).isEqualTo(ready);
    assertThat(condition(s, "Progressing").getStatus()).isEqualTo(progressing);
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo(degraded);
    assertThat(s.conditions).allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(4L));
    assertThat(condition(s, "Ready").getReason()).isEqualTo(reason);
  }

  @Test
  void aMissingStorageClassIsTheFirstThingToFix() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(PENDING, false, new Vm("vm1", VmState.WAITING_FOR_PVC, null), null), List.of(), T0);
    assertConditions(s, "False", "True", "False", "StorageClassNotFound");
    assertThat(s.phase).isEqualTo("Pending");
    assertThat(condition(s, "Progressing").getMessage()).contains("StorageClass remap does not exist", "spec.storageClassName");
  }

  @Test
  void aPendingPvcSaysWhatThePvControllerSays() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(PENDING, true, Vm.notRequested(), null), List.of(), T0);
    assertConditions(s, "False", "True", "False", "WaitingForVolume");
    assertThat(s.phase).isEqualTo("Provisioning");
    assertThat(s.pvcName).isEqualTo("d");
    assertThat(condition(s, "Progressing").getMessage()).contains("is Pending", "external provisioner 'csi.remap.dev'");
  }

  @Test
  void aPendingPvcWithoutEventsPointsAtTheCsiController() {
    Pvc quiet = new Pvc("d", PvcPhase.PENDING, null, null, null);
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(quiet, true, Vm.notRequested(), null), List.of(), T0);
    assertThat(condition(s, "Progressing").getMessage()).contains("CSI controller");
  }

  @Test
  void boundWithoutAVmIsReady() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(BOUND, true, Vm.notRequested(), null), List.of(), T0);
    assertConditions(s, "True", "False", "False", "Bound");
    assertThat(s.phase).isEqualTo("Bound");
    assertThat(s.volumeHandle).isEqualTo("vol-1");
    assertThat(s.capacity).isEqualTo("10Gi");
    assertThat(s.attachedTo).isNull();
  }

  @Test
  void boundButTheVmIsMissingWaitsForIt() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(BOUND, true, new Vm("vm1", VmState.NOT_FOUND, null), null), List.of(), T0);
    assertConditions(s, "False", "True", "False", "VirtualMachineNotFound");
    assertThat(condition(s, "Ready").getMessage()).contains("VirtualMachine vm1 does not exist");
  }

  @Test
  void noKubeVirtIsSaidPlainly() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(BOUND, true, new Vm("vm1", VmState.KUBEVIRT_MISSING, null), null), List.of(), T0);
    assertConditions(s, "False", "True", "False", "KubeVirtNotInstalled");
  }

  @Test
  void attachedIsReadyAndNamesTheVmAndSerial() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(BOUND, true, new Vm("vm1", VmState.ATTACHED, null), null), List.of(), T0);
    assertConditions(s, "True", "False", "False", "Attached");
    assertThat(s.phase).isEqualTo("Attached");
    assertThat(s.attachedTo).isEqualTo("vm1");
    assertThat(s.serial).isEqualTo("serial1");
    assertThat(condition(s, "Ready").getMessage()).contains("vm1", "serial1");
  }

  @Test
  void aPendingHotplugKeepsTheVmAndSaysKubeVirtHasTheRequest() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(BOUND, true, new Vm("vm1", VmState.HOTPLUG_PENDING, null), null), List.of(), T0);
    assertConditions(s, "True", "True", "False", "HotplugPending");
    assertThat(s.phase).isEqualTo("Bound");
    assertThat(s.attachedTo).as("so that deleting the disk unplugs it from vm1").isEqualTo("vm1");
    assertThat(condition(s, "Progressing").getMessage()).contains("vm1", "serial1", "status.volumeRequests");
  }

  @Test
  void aDiskLeavingItsOldVmStillNamesItAndSaysWhy() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(
        obs(BOUND, true, new Vm("old", VmState.DETACHING, "a hot-unplug request is pending"), null), List.of(), T0);
    assertConditions(s, "True", "True", "False", "Detaching");
    assertThat(s.attachedTo).isEqualTo("old");
    assertThat(condition(s, "Progressing").getMessage()).contains("Leaving VirtualMachine old", "hot-unplug request is pending");
  }

  @Test
  void aFailedAttachIsDegradedWithTheCause() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(BOUND, true, new Vm("vm1", VmState.FAILED, "conflict"), null), List.of(), T0);
    assertConditions(s, "False", "True", "True", "AttachFailed");
    assertThat(condition(s, "Degraded").getMessage()).contains("conflict");
  }

  @Test
  void aForeignPvcIsAConflictTheUserMustResolve() {
    Pvc foreign = new Pvc("d", PvcPhase.FOREIGN, null, null, null);
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(obs(foreign, true, Vm.notRequested(), null), List.of(), T0);
    assertConditions(s, "False", "False", "True", "PvcConflict");
    assertThat(s.pvcName).isNull();
    assertThat(s.phase).isEqualTo("Failed");
  }

  @Test
  void aReconcileErrorIsDegradedAndRetried() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(
        obs(Pvc.absent("d"), true, Vm.notRequested(), "persistentvolumeclaims \"d\" is forbidden: exceeded quota"), List.of(), T0);
    assertConditions(s, "False", "True", "True", "ReconcileError");
    assertThat(condition(s, "Degraded").getMessage()).contains("exceeded quota", "will be retried");
  }

  @Test
  void transitionTimesMoveOnlyWhenAStatusChanges() {
    VirtualDiskStatus first = VirtualDiskStatusBuilder.build(obs(PENDING, true, Vm.notRequested(), null), List.of(), T0);
    VirtualDiskStatus same = VirtualDiskStatusBuilder.build(obs(PENDING, true, Vm.notRequested(), null), first.conditions, T1);
    assertThat(same.conditions).isEqualTo(first.conditions);
    VirtualDiskStatus bound = VirtualDiskStatusBuilder.build(obs(BOUND, true, Vm.notRequested(), null), first.conditions, T1);
    assertThat(condition(bound, "Ready").getLastTransitionTime()).isEqualTo(T1.toString());
    assertThat(condition(bound, "Degraded").getLastTransitionTime()).isEqualTo(T0.toString());
  }

  @Test
  void aFailedSnapshotDegradesAReadyDiskWithoutMakingItUnready() {
    var ok = new dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus();
    ok.name = "monday";
    ok.volumeSnapshotName = "d-monday";
    ok.readyToUse = true;
    var bad = new dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus();
    bad.name = "tuesday";
    bad.volumeSnapshotName = "d-tuesday";
    bad.readyToUse = false;
    bad.error = "store unreachable";
    DiskObservation o = new DiskObservation(4, BOUND, true, "remap", new Vm("vm1", VmState.ATTACHED, null), "serial1",
        List.of(ok, bad), null);
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(o, List.of(), T0);
    assertThat(condition(s, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Ready").getReason()).isEqualTo("Attached");
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Degraded").getReason()).isEqualTo("SnapshotFailed");
    assertThat(condition(s, "Degraded").getMessage()).contains("tuesday: store unreachable");
    assertThat(s.snapshots).extracting(x -> x.name).containsExactly("monday", "tuesday");
  }

  @Test
  void aFailedExportIsSaidInDegradedWhileTheDiskStaysReadyAndARunningOneOnlyInItsStatus() {
    var failed = new dev.remap.api.disk.VirtualDiskStatus.ExportStatus();
    failed.snapshot = "monday";
    failed.phase = "Failed";
    failed.message = "exporting snapshot monday to s3://b/p failed (retried): bucket missing";
    DiskObservation o = new DiskObservation(4, BOUND, true, "remap", new Vm("vm1", VmState.ATTACHED, null), "serial1",
        List.of(), null, failed);
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(o, List.of(), T0);
    assertThat(condition(s, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Degraded").getReason()).isEqualTo("ExportFailed");
    assertThat(condition(s, "Degraded").getMessage()).contains("bucket missing");
    assertThat(s.export).isSameAs(failed);

    var running = new dev.remap.api.disk.VirtualDiskStatus.ExportStatus();
    running.snapshot = "monday";
    running.storeUri = "s3://b/p";
    running.phase = "Running";
    running.jobName = "remap-export-x";
    running.message = "copying: 42 of 100 bytes (42%)";
    DiskObservation busy = new DiskObservation(4, BOUND, true, "remap", new Vm("vm1", VmState.ATTACHED, null),
        "serial1", List.of(), null, running);
    VirtualDiskStatus b = VirtualDiskStatusBuilder.build(busy, List.of(), T0);
    assertThat(condition(b, "Degraded").getStatus()).isEqualTo("False");
    assertThat(condition(b, "Ready").getReason()).as("the disk is as usable").isEqualTo("Attached");
    assertThat(condition(b, "Progressing").getStatus()).isEqualTo("True");
    assertThat(condition(b, "Progressing").getReason()).isEqualTo("Exporting");
    assertThat(condition(b, "Progressing").getMessage()).contains("monday").contains("s3://b/p").contains("42%");
    assertThat(b.export.phase).isEqualTo("Running");
  }

  @Test
  void anImportingDiskIsProgressingWithItsJobsWordsAndAFailedOneIsDegraded() {
    Pvc pending = new Pvc("d1", PvcPhase.PENDING, null, null, null);
    var importing = new dev.remap.api.disk.VirtualDiskStatus.ImportStatus();
    importing.storeUri = "s3://b/p";
    importing.phase = "Running";
    importing.jobName = "remap-import-x";
    importing.message = "copying: 1 of 4 bytes (25%)";
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(new DiskObservation(2, pending, true, "remap",
        Vm.notRequested(), "serial1", List.of(), null, null, null, importing), List.of(), T0);
    assertThat(s.phase).isEqualTo("Provisioning");
    assertThat(condition(s, "Progressing").getReason()).isEqualTo("Importing");
    assertThat(condition(s, "Ready").getMessage()).contains("s3://b/p").contains("25%");
    assertThat(s.importStatus).isSameAs(importing);

    importing.phase = "Failed";
    importing.message = "there is no export in s3://b/p (no manifest.map) (Job remap-system/remap-import-x; …)";
    VirtualDiskStatus f = VirtualDiskStatusBuilder.build(new DiskObservation(2, pending, true, "remap",
        Vm.notRequested(), "serial1", List.of(), null, null, null, importing), List.of(), T0);
    assertThat(condition(f, "Degraded").getReason()).isEqualTo("ImportFailed");
    assertThat(condition(f, "Degraded").getMessage()).contains("no manifest.map");
    assertThat(condition(f, "Progressing").getStatus()).isEqualTo("False");

    importing.phase = "Succeeded";
    VirtualDiskStatus done = VirtualDiskStatusBuilder.build(new DiskObservation(2, pending, true, "remap",
        Vm.notRequested(), "serial1", List.of(), null, null, null, importing), List.of(), T0);
    assertThat(condition(done, "Ready").getReason()).as("then the PVC binds").isEqualTo("WaitingForVolume");
  }

  @Test
  void theVolumesUsageFromTheStoreIsTheIoAndCacheSummary() {
    DiskObservation o = new DiskObservation(4, BOUND, true, "remap", new Vm("vm1", VmState.ATTACHED, null), "serial1",
        List.of(), null, null, new dev.remap.engine.volume.Usage(10, 4, 40960, 1 << 20, 7, 3, 99, 99));
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(o, List.of(), T0);
    assertThat(s.io.reads).isEqualTo(10);
    assertThat(s.io.writes).isEqualTo(4);
    assertThat(s.io.readBytes).isEqualTo(40960);
    assertThat(s.io.writtenBytes).isEqualTo(1 << 20);
    assertThat(s.cache.ramHits).isEqualTo(7);
    assertThat(s.cache.ramMisses).isEqualTo(3);
    assertThat(s.cache.diskHits).as("the disk tier is the node's, not the disk's").isNull();
    DiskObservation unknown = new DiskObservation(4, BOUND, true, "remap", new Vm("vm1", VmState.ATTACHED, null),
        "serial1", List.of(), null);
    assertThat(VirtualDiskStatusBuilder.build(unknown, List.of(), T0).io).isNull();
  }

  static DiskObservation withSpace(SpaceReport space, List<VirtualDiskStatus.SnapshotStatus> snapshots) {
    return new DiskObservation(4, BOUND, true, "remap", new Vm("vm1", VmState.ATTACHED, null), "serial1", snapshots,
        null, null, null, null, space);
  }

  @Test
  void theOwnersMeasurementIsTheSpaceSummary() {
    SpaceReport measured = new SpaceReport(4L << 30, 5_000_000_000L, 123_456, null, 1_700_000_000_000L);
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(withSpace(measured, List.of()), List.of(), T0);
    assertThat(s.space.liveBytes).isEqualTo(4L << 30);
    assertThat(s.space.storedBytes).isEqualTo(5_000_000_000L);
    assertThat(s.space.amplification).isEqualTo("1.16");
    assertThat(s.space.cleanedBytes).isEqualTo(123_456);
    assertThat(condition(s, "NoSpace").getStatus()).isEqualTo("False");
    assertThat(condition(s, "NoSpace").getReason()).isEqualTo("SpaceAvailable");
    assertConditions(s, "True", "False", "False", "Attached");

    VirtualDiskStatus garbageOnly = VirtualDiskStatusBuilder.build(
        withSpace(new SpaceReport(0, 1 << 20, 0, null, 1), List.of()), List.of(), T0);
    assertThat(garbageOnly.space.amplification).isEqualTo("Inf");

    VirtualDiskStatus notMeasured = VirtualDiskStatusBuilder.build(withSpace(SpaceReport.UNKNOWN, List.of()),
        List.of(), T0);
    assertThat(notMeasured.space).as("a lease without a measurement").isNull();
    assertThat(condition(notMeasured, "NoSpace").getStatus()).isEqualTo("False");
  }

  @Test
  void withoutAReportNoSpaceIsFalseAndSaysNothingWasReported() {
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(withSpace(null, List.of()), List.of(), T0);
    assertThat(s.space).isNull();
    assertThat(condition(s, "NoSpace").getStatus()).isEqualTo("False");
    assertThat(condition(s, "NoSpace").getReason()).isEqualTo("NotReported");
    assertThat(condition(s, "NoSpace").getObservedGeneration()).isEqualTo(4L);
    assertThat(s.conditions).extracting(Condition::getType)
        .containsExactly("Ready", "Progressing", "Degraded", "NoSpace");
  }

  @Test
  void writesShortOfSpaceSayNoSpaceAndDegradeTheDiskWhichStaysReady() {
    String reason = "the store is full: PUT segments/vol-1/000042 returned 507 Insufficient Storage";
    SpaceReport full = new SpaceReport(1 << 20, 1 << 20, 0, reason, 1);
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(withSpace(full, List.of()), List.of(), T0);
    assertThat(condition(s, "NoSpace").getStatus()).isEqualTo("True");
    assertThat(condition(s, "NoSpace").getReason()).isEqualTo("NoSpace");
    assertThat(condition(s, "NoSpace").getMessage()).isEqualTo(reason);
    assertConditions(s, "True", "False", "True", "Attached");
    assertThat(condition(s, "Degraded").getReason()).isEqualTo("NoSpace");
    assertThat(condition(s, "Degraded").getMessage()).contains("fail for want of space", reason);
    assertThat(s.phase).isEqualTo("Attached");

    // Space freed: both go back, each with a new transition time.
    VirtualDiskStatus freed = VirtualDiskStatusBuilder.build(withSpace(full.withNoSpace(null), List.of()),
        s.conditions, T1);
    assertThat(condition(freed, "NoSpace").getStatus()).isEqualTo("False");
    assertThat(condition(freed, "NoSpace").getLastTransitionTime()).isEqualTo(T1.toString());
    assertThat(condition(freed, "Degraded").getStatus()).isEqualTo("False");
  }

  @Test
  void noSpaceGoesBeforeAFailedSnapshotInDegraded() {
    var bad = new VirtualDiskStatus.SnapshotStatus();
    bad.name = "tuesday";
    bad.error = "store unreachable";
    VirtualDiskStatus s = VirtualDiskStatusBuilder.build(
        withSpace(new SpaceReport(1, 1, 0, "local disk full", 1), List.of(bad)), List.of(), T0);
    assertThat(condition(s, "Degraded").getReason()).isEqualTo("NoSpace");
    assertThat(condition(s, "NoSpace").getMessage()).isEqualTo("local disk full");
  }
}
