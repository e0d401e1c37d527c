package dev.remap.operator.swap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.swap.VmMemorySwapStatus;
import dev.remap.operator.disk.DiskObservation.Vm;
import dev.remap.operator.disk.DiskObservation.VmState;
import dev.remap.operator.status.Conditions;
import dev.remap.operator.status.StatusDiff;
import dev.remap.operator.swap.SwapObservation.Volume;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class VmMemorySwapStatusBuilderTest {

  static final String PV = "remap-swap-uid";
  static final String PVC = "s-swap";
  static final Vm ATTACHED = new Vm("vm1", VmState.ATTACHED, null);

  static SwapObservation obs(Volume volume, Vm vm, String pool, boolean aboveCap, String error) {
    return new SwapObservation(4, PV, PVC, volume, vm, pool, aboveCap, Optional.empty(), error, null);
  }

  static SwapObservation refused(String nodeSentence, String pool) {
    return new SwapObservation(4, PV, PVC, Volume.BOUND, ATTACHED, pool, false, Optional.empty(), null, nodeSentence);
  }

  static Condition condition(VmMemorySwapStatus s, String type) {
    return Conditions.find(s.conditions, type).orElseThrow();
  }

  /** Observation → Ready status and reason, and what the message must name. */
  static Stream<Arguments> table() {
    return Stream.of(
        Arguments.of(obs(Volume.BOUND, ATTACHED, null, false, null), true, "Attached", "is a disk of VirtualMachine vm1"),
        Arguments.of(obs(Volume.NOT_MADE, new Vm("vm1", VmState.WAITING_FOR_PVC, null), "spec.memoryLimit 2Gi ... cap 1Gi",
            true, null), false, "PoolExhausted", "spec.memoryLimit 2Gi ... cap 1Gi"),
        Arguments.of(obs(Volume.PENDING, new Vm("vm9", VmState.NOT_FOUND, null), null, false, null), false, "VmNotFound",
            "VirtualMachine vm9 (spec.vmName) does not exist"),
        Arguments.of(obs(Volume.BOUND, new Vm("vm9", VmState.NOT_FOUND, null), null, false, null), false, "VmNotFound",
            "vm9"),
        Arguments.of(obs(Volume.BOUND, ATTACHED, "node n1 is full", false, null), false, "PoolExhausted", "node n1 is full"),
        Arguments.of(obs(Volume.PENDING, new Vm("vm1", VmState.KUBEVIRT_MISSING, null), null, false, null), false,
            "KubeVirtNotInstalled", "install KubeVirt"),
        Arguments.of(obs(Volume.FOREIGN, new Vm("vm1", VmState.WAITING_FOR_PVC, null), null, false, null), false,
            "VolumeConflict", "PersistentVolumeClaim s-swap"),
        Arguments.of(obs(Volume.LOST, new Vm("vm1", VmState.WAITING_FOR_PVC, null), null, false, null), false, "PvcLost",
            PV),
        Arguments.of(obs(Volume.ABSENT, new Vm("vm1", VmState.WAITING_FOR_PVC, null), null, false, null), false,
            "CreatingVolume", PV),
        Arguments.of(obs(Volume.PENDING, new Vm("vm1", VmState.WAITING_FOR_PVC, null), null, false, null), false,
            "WaitingForVolume", "PersistentVolumeClaim s-swap is not bound to PersistentVolume " + PV),
        Arguments.of(obs(Volume.BOUND, new Vm("vm1", VmState.FAILED, "boom"), null, false, null), false, "AttachFailed",
            "boom"),
        Arguments.of(obs(Volume.BOUND, new Vm("vm1", VmState.HOTPLUG_PENDING, null), null, false, null), false,
            "HotplugPending", "running VirtualMachine vm1"),
        Arguments.of(obs(Volume.BOUND, ATTACHED, null, false, "etcd is sad"), false, "ReconcileError", "etcd is sad"),
        Arguments.of(refused("volume_context.remap.dev/swap-spill-location (spill.location): /x is not a directory on"
            + " node n1: the swap disk's spill file is made there", null), false, "SpillLocationInvalid",
            "(spill.location): /x is not a directory on node n1"),
        // The node's word beats the operator's forecast.
        Arguments.of(refused("PoolExhausted: the pool is full (the swap pool cap of node n1 is 1 bytes)", "forecast"),
            false, "PoolExhausted", "PoolExhausted: the pool is full"),
        Arguments.of(refused("node n1 has no swap pool (its node plugin runs with --swap-pool 0", null), false,
            "NoSwapPool", "node n1 has no swap pool"),
        Arguments.of(refused("the engine is sad", null), false, "StageFailed", "could not stage its swap disk"));
  }

  @ParameterizedTest
  @MethodSource("table")
  void readyTellsTheFirstThingThatKeepsTheSwapFromItsVm(SwapObservation o, boolean ready, String reason, String names) {
    VmMemorySwapStatus s = VmMemorySwapStatusBuilder.build(o, List.of(), Instant.EPOCH);
    Condition c = condition(s, "Ready");
    assertThat(c.getStatus()).isEqualTo(ready ? "True" : "False");
    assertThat(c.getReason()).isEqualTo(reason);
    assertThat(c.getMessage()).contains(names);
    assertThat(s.observedGeneration).isEqualTo(4L);
    assertThat(s.conditions).allSatisfy(x -> assertThat(x.getObservedGeneration()).isEqualTo(4L));
    // Whatever else holds, the swap is never live-migratable.
    Condition migratable = condition(s, "LiveMigratable");
    assertThat(migratable.getStatus()).isEqualTo("False");
    assertThat(migratable.getReason()).isEqualTo("NodeLocalSwap");
    assertThat(migratable.getMessage()).contains("cannot be live-migrated", "ReadWriteOnce", PVC);
    assertThat(s.conditions).extracting(Condition::getType)
        .containsExactly("Ready", "Progressing", "Degraded", "LiveMigratable");
  }

  @Test
  void poolExhaustedIsDegradedAndVmNotFoundIsAWait() {
    VmMemorySwapStatus full = VmMemorySwapStatusBuilder.build(obs(Volume.BOUND, ATTACHED, "full", false, null),
        List.of(), Instant.EPOCH);
    assertThat(condition(full, "Degraded").getStatus()).isEqualTo("True");
    assertThat(condition(full, "Degraded").getReason()).isEqualTo("PoolExhausted");
    assertThat(full.attachedTo).as("still in the VM's spec").isEqualTo("vm1");

    VmMemorySwapStatus missing = VmMemorySwapStatusBuilder.build(
        obs(Volume.BOUND, new Vm("vm9", VmState.NOT_FOUND, null), null, false, null), List.of(), Instant.EPOCH);
    assertThat(condition(missing, "Progressing").getStatus()).isEqualTo("True");
    assertThat(condition(missing, "Degraded").getStatus()).isEqualTo("False");
    assertThat(missing.attachedTo).isNull();
    assertThat(missing.pvcName).isEqualTo(PVC);
    assertThat(missing.volumeName).isEqualTo(PV);
  }

  @Test
  void aNodeThatCannotStageTheDiskIsDegradedAndNamesTheDisk() {
    VmMemorySwapStatus s = VmMemorySwapStatusBuilder.build(refused("PoolExhausted: full", null), List.of(),
        Instant.EPOCH);
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Degraded").getReason()).isEqualTo("PoolExhausted");
    assertThat(condition(s, "Progressing").getStatus()).as("a person must act").isEqualTo("False");
    assertThat(condition(s, "Ready").getMessage()).contains("VirtualMachine vm1", "PersistentVolume " + PV);
    assertThat(s.attachedTo).as("still in the VM").isEqualTo("vm1");
  }

  @Test
  void nothingMadeMeansNoObjectsNamed() {
    VmMemorySwapStatus s = VmMemorySwapStatusBuilder.build(
        obs(Volume.NOT_MADE, new Vm("vm1", VmState.WAITING_FOR_PVC, null), "too big", true, null), List.of(), Instant.EPOCH);
    assertThat(s.pvcName).isNull();
    assertThat(s.volumeName).isNull();
    assertThat(s.attachedTo).isNull();
  }

  @Test
  void countersAreReportedOnlyWhenTheNodeGaveThem() {
    VmMemorySwapStatus none = VmMemorySwapStatusBuilder.build(obs(Volume.BOUND, ATTACHED, null, false, null), List.of(),
        Instant.EPOCH);
    assertThat(none.residentBytes).isNull();
    assertThat(none.swapOuts).isNull();
    assertThat(none.bytesCopied).as("unknown, not zero").isNull();

    SwapFigures f = new SwapFigures(1, 2, 3, 4, 5, 6, 7, 8, 9, 0);
    VmMemorySwapStatus some = VmMemorySwapStatusBuilder.build(new SwapObservation(4, PV, PVC, Volume.BOUND, ATTACHED, null,
        false, Optional.of(f), null, null), List.of(), Instant.EPOCH);
    assertThat(List.of(some.residentBytes, some.spilledBytes, some.swapOuts, some.swapIns, some.remaps, some.pagesReleased,
        some.spillWrites, some.spillLoads, some.discards, some.bytesCopied))
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 0L);
  }

  @Test
  void rebuildingTheSameStatusLaterIsNoChange() {
    SwapObservation o = obs(Volume.BOUND, ATTACHED, null, false, null);
    VmMemorySwapStatus first = VmMemorySwapStatusBuilder.build(o, List.of(), Instant.EPOCH);
    VmMemorySwapStatus again = VmMemorySwapStatusBuilder.build(o, first.conditions, Instant.now());
    assertThat(StatusDiff.changed(first, again)).isFalse();
    VmMemorySwapStatus full = VmMemorySwapStatusBuilder.build(obs(Volume.BOUND, ATTACHED, "full", false, null),
        first.conditions, Instant.now());
    assertThat(StatusDiff.changed(first, full)).isTrue();
  }
}
