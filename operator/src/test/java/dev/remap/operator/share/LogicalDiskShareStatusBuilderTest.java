package dev.remap.operator.share;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.share.LogicalDiskShare;
import dev.remap.api.share.LogicalDiskShareStatus;
import dev.remap.engine.share.Generation;
import dev.remap.engine.share.ShareStatus;
import dev.remap.operator.disk.DiskObservation.Vm;
import dev.remap.operator.disk.DiskObservation.VmState;
import dev.remap.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A LogicalDiskShare's status from what the reconciler observed: figures, conditions, reasons. */
class LogicalDiskShareStatusBuilderTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final Instant T1 = Instant.parse("2026-01-01T00:05:00Z");
  static final ShareStatus.Counters COUNTERS = new ShareStatus.Counters(3, 1, 1, 0);

  static LogicalDiskShare share() {
    return ShareAgentModelTest.share("{" + ShareAgentModelTest.CLOUD + ", split: {mode: byFolder}, allocation: []}");
  }

  /**
   * The agent's report: generation 2, Photos (2 files) and Texts (1); vm-a moved to generation 2
   * (its generation 1 disk retired), vm-c still on generation 1 with both groups. Pending is per
   * VM, on each of its rows, as the agent writes it.
   */
  static ShareStatus report(boolean connected, String reason, String error) {
    return new ShareStatus(connected, error, reason, 2, T0, COUNTERS,
        List.of(new ShareStatus.Disk("Photos", "share-p-g1", 1L << 30, 2, 31, List.of()),
            new ShareStatus.Disk("Texts", "share-t-g1", 1L << 30, 1, 16, List.of())),
        List.of(vm("vm-a", "Photos", 2, 2, false), vm("vm-c", "Photos", 1, 1, false), vm("vm-c", "Texts", 1, 1, false),
            vm("vm-a", "Photos", 1, 2, true)),
        List.of(), List.of(new ShareStatus.Event(T0, false, "generation 1 built: 3 files fetched")));
  }

  static ShareStatus.Vm vm(String vm, String group, long generation, long pending, boolean retired) {
    return new ShareStatus.Vm(vm, group, "share-" + vm + "-" + group + "-g" + generation, generation, 1L << 30, pending,
        0, retired, "");
  }

  static List<ShareObservation.DiskAttachment> attached(VmState state) {
    return List.of(attachment("vm-a", "Photos", 2, state), attachment("vm-c", "Photos", 1, VmState.ATTACHED),
        attachment("vm-c", "Texts", 1, VmState.ATTACHED));
  }

  static ShareObservation.DiskAttachment attachment(String vm, String group, long generation, VmState state) {
    return new ShareObservation.DiskAttachment(vm, group, "family-" + vm + "-" + group, generation, "lds-" + group,
        new Vm(vm, state, state == VmState.FAILED ? "the VM refused the patch" : null));
  }

  static ShareObservation answering(ShareStatus report, List<String> missingVms, List<ShareObservation.DiskAttachment> disks) {
    return new ShareObservation(3, null, missingVms, ShareObservation.Agent.ANSWERING, Optional.of(report), null, disks,
        false);
  }

  static Condition condition(LogicalDiskShareStatus s, String type) {
    return Conditions.find(s.conditions, type).orElseThrow();
  }

  static LogicalDiskShareStatus assertReason(LogicalDiskShareStatus s, String ready, String progressing,
      String degraded, String reason) {
    assertThat(condition(s, "Ready").getStatus()).isEqualTo(ready);
    assertThat(condition(s, "Progressing").getStatus()).isEqualTo(progressing);
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo(degraded);
    assertThat(condition(s, "Ready").getReason()).as(condition(s, "Ready").getMessage()).isEqualTo(reason);
    assertThat(s.conditions).allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(3L));
    return s;
  }

  @Test
  void aShareWhoseDisksAreAllInTheirVmsIsSharedWithTheAgentsFigures() {
    LogicalDiskShareStatus s = LogicalDiskShareStatusBuilder.build(share(),
        answering(report(true, "", ""), List.of(), attached(VmState.ATTACHED)), T1);
    assertReason(s, "True", "False", "False", "Shared");
    assertThat(condition(s, "Ready").getMessage()).contains("2 disk(s) of generation 2", "2 VM(s)", "3 change(s)");
    assertThat(s.observedGeneration).isEqualTo(3);
    assertThat(s.connected).isTrue();
    assertThat(s.generation).isEqualTo(2);
    assertThat(s.diskCount).isEqualTo(2);
    assertThat(s.vmCount).as("the retired disk's VM counted once").isEqualTo(2);
    assertThat(s.pendingUploads).isEqualTo(3);
    assertThat(s.lastSync).isEqualTo(T0.toString());
    assertThat(s.counters.pulled).isEqualTo(3);
    assertThat(s.counters.ownChangesSkipped).isEqualTo(1);
    assertThat(s.disks).extracting(d -> d.group + " " + d.files + " " + d.bytes + " " + d.size + " g" + d.generation)
        .containsExactly("Photos 2 31 1073741824 g2", "Texts 1 16 1073741824 g2");
    LogicalDiskShareStatus.VmState c = s.vms.stream().filter(v -> v.name.equals("vm-c")).findFirst().orElseThrow();
    assertThat(c.disks).extracting(d -> d.group + " " + d.pvcName + " " + d.serial + " " + d.attached)
        .containsExactly("Photos family-vm-c-Photos lds-Photos true", "Texts family-vm-c-Texts lds-Texts true");
    assertThat(s.vms.stream().filter(v -> v.name.equals("vm-a")).findFirst().orElseThrow().disks)
        .as("a retired disk is not the VM's any more").singleElement()
        .satisfies(d -> assertThat(d.generation).isEqualTo(2));
  }

  @Test
  void aSetupProblemDegradesTheShareWithItsOwnSentence() {
    ShareObservation o = new ShareObservation(3, new ShareObservation.Problem("SecretNotFound",
        "Secret nope (spec.cloud.secretRef) does not exist in namespace vms"), List.of(),
        ShareObservation.Agent.NOT_MADE, Optional.empty(), null, List.of(), false);
    LogicalDiskShareStatus s = assertReason(LogicalDiskShareStatusBuilder.build(share(), o, T1), "False", "False",
        "True", "SecretNotFound");
    assertThat(condition(s, "Degraded").getMessage()).contains("Secret nope", "spec.cloud.secretRef");
  }

  @Test
  void anAgentThatHasNotAnsweredYetIsStarting() {
    ShareObservation o = new ShareObservation(3, null, List.of(), ShareObservation.Agent.STARTING, Optional.empty(),
        "the share agent at 10.0.0.7 did not answer: Connection refused", List.of(), false);
    LogicalDiskShareStatus s = assertReason(LogicalDiskShareStatusBuilder.build(share(), o, T1), "False", "True",
        "False", "StartingAgent");
    assertThat(condition(s, "Progressing").getMessage()).contains("Connection refused");
    assertThat(s.connected).isNull();
  }

  @Test
  void whenTheAgentStopsAnsweringTheFiguresItGaveLastAreKept() {
    LogicalDiskShare share = share();
    share.setStatus(LogicalDiskShareStatusBuilder.build(share, answering(report(true, "", ""), List.of(),
        attached(VmState.ATTACHED)), T0));
    ShareObservation silent = new ShareObservation(3, null, List.of(), ShareObservation.Agent.NOT_ANSWERING,
        Optional.empty(), "the share agent answered 503: no round yet", List.of(), false);
    LogicalDiskShareStatus s = assertReason(LogicalDiskShareStatusBuilder.build(share, silent, T1), "False", "True",
        "False", "AgentNotAnswering");
    assertThat(condition(s, "Ready").getMessage()).contains("503");
    assertThat(s.connected).isTrue();
    assertThat(s.generation).isEqualTo(2);
    assertThat(s.diskCount).isEqualTo(2);
    assertThat(s.vmCount).isEqualTo(2);
    assertThat(s.pendingUploads).isEqualTo(3);
    assertThat(s.disks).hasSize(2);
    assertThat(s.vms).hasSize(2);
    assertThat(s.counters.pulled).isEqualTo(3);
  }

  @Test
  void eachKindOfCloudFailureHasItsReasonNamingTheBucket() {
    String[][] cases = {{"NO_BUCKET", "BucketNotFound"}, {"CREDENTIALS", "CredentialsRejected"},
        {"ACCESS_DENIED", "AccessDenied"}, {"UNREACHABLE", "CloudUnreachable"}, {"DAMAGED", "CloudFailed"}};
    for (String[] c : cases) {
      LogicalDiskShareStatus s = LogicalDiskShareStatusBuilder.build(share(),
          answering(report(false, c[0], "the cloud said no"), List.of(), attached(VmState.ATTACHED)), T1);
      assertReason(s, "False", "False", "True", c[1]);
      assertThat(condition(s, "Degraded").getMessage()).as(c[1]).contains("bucket family-files (prefix shared/)",
          "at https://s3.example", "spec.cloud", "the cloud said no", "3 pending");
      assertThat(s.connected).isFalse();
    }
  }

  @Test
  void aVmThatDoesNotExistIsNamedAndAGroupTheCloudLacksToo() {
    LogicalDiskShareStatus s = LogicalDiskShareStatusBuilder.build(share(),
        answering(report(true, "", ""), List.of("ghost"), attached(VmState.ATTACHED)), T1);
    assertReason(s, "False", "True", "True", "VmNotFound");
    assertThat(condition(s, "Ready").getMessage()).contains("VirtualMachine ghost", "spec.allocation[].vmNames");

    ShareStatus r = report(true, "", "");
    ShareStatus missing = new ShareStatus(true, "", "", 2, T0, COUNTERS, r.disks(), r.vms(),
        List.of(new ShareStatus.Missing("vm-a", "Music"), new ShareStatus.Missing("vm-c", "Music")), r.events());
    s = LogicalDiskShareStatusBuilder.build(share(), answering(missing, List.of(), attached(VmState.ATTACHED)), T1);
    assertReason(s, "False", "False", "True", "GroupNotFound");
    assertThat(condition(s, "Ready").getMessage()).contains("vm-a", "'Music'", "spec.allocation[].disks", "1 more");
  }

  @Test
  void aPrefixWithNoFilesIsNamed() {
    ShareStatus empty = new ShareStatus(true, "", "", 1, T0, new ShareStatus.Counters(0, 0, 0, 0),
        List.of(new ShareStatus.Disk("all", "share-a-g1", 1L << 30, 0, 0, List.of())), List.of(), List.of(), List.of());
    LogicalDiskShareStatus s = LogicalDiskShareStatusBuilder.build(share(), answering(empty, List.of(), List.of()), T1);
    assertReason(s, "False", "False", "True", "EmptyPrefix");
    assertThat(condition(s, "Ready").getMessage()).contains("bucket family-files (prefix shared/)", "holds no files");

    // Split by folder, an empty prefix has no folder at all: every group is missing, the prefix is the cause.
    ShareStatus noFolders = new ShareStatus(true, "", "", 1, T0, new ShareStatus.Counters(0, 0, 0, 0), List.of(),
        List.of(), List.of(new ShareStatus.Missing("vm-a", "Photos")), List.of());
    s = LogicalDiskShareStatusBuilder.build(share(), answering(noFolders, List.of(), List.of()), T1);
    assertReason(s, "False", "False", "True", "EmptyPrefix");
  }

  @Test
  void withoutKubeVirtTheShareWaitsForIt() {
    ShareObservation o = new ShareObservation(3, null, List.of(), ShareObservation.Agent.ANSWERING,
        Optional.of(report(true, "", "")), null, List.of(), true);
    assertReason(LogicalDiskShareStatusBuilder.build(share(), o, T1), "False", "True", "False", "KubeVirtNotInstalled");
  }

  @Test
  void aDiskOnItsWayIntoItsVmIsAttachingAndAFailedAttachIsDegraded() {
    LogicalDiskShareStatus s = LogicalDiskShareStatusBuilder.build(share(),
        answering(report(true, "", ""), List.of(), attached(VmState.WAITING_FOR_PVC)), T1);
    assertReason(s, "False", "True", "False", "Attaching");
    assertThat(condition(s, "Ready").getMessage()).contains("family-vm-a-Photos", "vm-a", "WAITING_FOR_PVC");
    assertThat(s.vms.get(0).disks.get(0).attached).isFalse();

    s = LogicalDiskShareStatusBuilder.build(share(), answering(report(true, "", ""), List.of(),
        attached(VmState.FAILED)), T1);
    assertReason(s, "False", "True", "True", "AttachFailed");
    assertThat(condition(s, "Degraded").getMessage()).contains("VirtualMachine vm-a", "the VM refused the patch");
  }

  @Test
  void atMostTwentySkippedFilesAreListedAndTheCountHasThemAll() {
    List<Generation.Skipped> skipped = new ArrayList<>();
    IntStream.range(0, 25).forEach(i -> skipped.add(new Generation.Skipped("Photos/big-" + i + ".iso",
        "4 GiB or more does not fit FAT32")));
    ShareStatus r = report(true, "", "");
    ShareStatus withSkipped = new ShareStatus(true, "", "", 2, T0, COUNTERS,
        List.of(new ShareStatus.Disk("Photos", "share-p-g1", 1L << 30, 2, 31, skipped), r.disks().get(1)), r.vms(),
        List.of(), r.events());
    LogicalDiskShareStatus s = LogicalDiskShareStatusBuilder.build(share(),
        answering(withSkipped, List.of(), attached(VmState.ATTACHED)), T1);
    LogicalDiskShareStatus.DiskState photos = s.disks.get(0);
    assertThat(photos.skipped).hasSize(20);
    assertThat(photos.skipped.get(0).name).isEqualTo("Photos/big-0.iso");
    assertThat(photos.skipped.get(0).reason).contains("FAT32");
    assertThat(photos.skippedCount).isEqualTo(25);
    assertThat(s.disks.get(1).skipped).isEmpty();
    assertThat(s.disks.get(1).skippedCount).isZero();
  }
}
