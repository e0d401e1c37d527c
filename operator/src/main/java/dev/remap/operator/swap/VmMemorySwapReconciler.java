package dev.remap.operator.swap;

import dev.remap.api.common.ConditionTypes;
import dev.remap.api.swap.VmMemorySwap;
import dev.remap.api.swap.VmMemorySwapStatus;
import dev.remap.operator.disk.DiskObservation.Vm;
import dev.remap.operator.disk.DiskObservation.VmState;
import dev.remap.operator.disk.VmAttacher;
import dev.remap.operator.kubevirt.KubeVirtClient;
import dev.remap.operator.status.Conditions;
import dev.remap.operator.status.EventRecorder;
import dev.remap.operator.status.StatusDiff;
import dev.remap.operator.swap.SwapObservation.Volume;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * VmMemorySwap: checks memoryLimit against the node swap pool, makes the static PersistentVolume
 * and the PVC of the contract (SwapVolumeModel, via SwapVolumes), puts the PVC into the VM as a
 * disk (VmAttacher: its spec, or hotplug when it runs), reads the disk's counters from the node
 * that runs the VM (SwapFiguresSource) or, when that node does not serve it, why it could not stage
 * it (the kubelet's events on the VM's pod: LauncherEvents, StageFailures), and reports
 * (VmMemorySwapStatusBuilder).
 * Its finalizer takes the disk out of the VM and deletes the PV, which no owner reference can
 * reach; the garbage collector deletes the PVC. It keeps no state: everything is re-read.
 */
@ControllerConfiguration(name = VmMemorySwapReconciler.NAME)
public class VmMemorySwapReconciler implements Reconciler<VmMemorySwap>, Cleaner<VmMemorySwap> {

  public static final String NAME = "vmmemoryswap";
  private static final Logger LOG = Logger.getLogger(VmMemorySwapReconciler.class);
  /** How often to look again while waiting on something that sends no event here (a VM, a binding). */
  static final Duration RECHECK = Duration.ofSeconds(10);
  /** The bus of the swap disk: virtio, the fastest, which KubeVirt also hotplugs. */
  static final String BUS = "virtio";

  private final SwapSettings settings;
  private final SwapFiguresSource figures;

  @jakarta.inject.Inject
  public VmMemorySwapReconciler(SwapSettings settings, SwapFiguresSource figures) {
    this.settings = settings;
    this.figures = figures;
  }

  @Override
  public UpdateControl<VmMemorySwap> reconcile(VmMemorySwap swap, Context<VmMemorySwap> context) {
    KubernetesClient client = context.getClient();
    String ns = swap.getMetadata().getNamespace();
    String vmName = swap.getSpec().vmName;
    Optional<String> aboveCap = SwapAdmission.aboveCap(SwapVolumeModel.bytes(swap.getSpec().memoryLimit),
        swap.getSpec().memoryLimit, SwapVolumeModel.bytes(swap.getSpec().size), swap.getSpec().size,
        settings.poolBytes(), settings.poolSize());
    if (aboveCap.isPresent()) {
      // The spec is immutable and the cap fixed while the operator runs: nothing to look at again.
      return patchIfChanged(swap, context, observation(swap, Volume.NOT_MADE, new Vm(vmName, VmState.WAITING_FOR_PVC,
          null), aboveCap.get(), true, Optional.empty(), null));
    }
    Volume volume = new SwapVolumes(client).ensure(swap);
    KubeVirtClient kubevirt = new KubeVirtClient(client);
    Vm vm = volume == Volume.BOUND
        ? new VmAttacher(kubevirt).attach(ns, vmName, true, SwapNames.vmDisk(swap), SwapNames.pvc(swap),
            SwapNames.serial(swap), BUS)
        : new Vm(vmName, vmExists(kubevirt, ns, vmName), null);
    Map<String, String> nodes = VmiNodes.read(client);
    String pool = SwapAdmission.onNode(claim(swap, nodes), claims(swap, context, nodes), settings.poolBytes(),
        settings.poolSize()).orElse(null);
    String node = nodes.get(ns + "/" + vmName);
    // A swap disk exists only on the node that runs its VM (staged there): no node, no counters.
    SwapReading reading = volume == Volume.BOUND && node != null ? figures.read(SwapNames.volumeHandle(swap), node)
        : SwapReading.notServed();
    Optional<SwapFigures> counters = reading.orLast(SwapFigures.of(swap.getStatus()));
    // The node's refusal to stage the disk reaches only the kubelet's events on the VM's pod. Counters
    // from the node mean the disk is staged there, whatever older events said.
    String stageFailure = volume == Volume.BOUND && node != null && vm.state() == VmState.ATTACHED
        && reading.figures().isEmpty()
        ? StageFailures.choose(LauncherEvents.read(client, ns, vmName), SwapNames.persistentVolume(swap),
            SwapNames.volumeHandle(swap)).orElse(null)
        : null;
    UpdateControl<VmMemorySwap> control = patchIfChanged(swap, context,
        observation(swap, volume, vm, pool, false, counters, stageFailure));
    boolean waiting = vm.state().rechecked() || vm.state() == VmState.WAITING_FOR_PVC || volume != Volume.BOUND;
    return control.rescheduleAfter(waiting ? RECHECK : settings.refresh());
  }

  /** NOT_FOUND or KUBEVIRT_MISSING when the VM is not there, WAITING_FOR_PVC when it is. */
  private static VmState vmExists(KubeVirtClient kubevirt, String ns, String vmName) {
    if (!kubevirt.installed()) {
      return VmState.KUBEVIRT_MISSING;
    }
    return kubevirt.get(ns, vmName).isPresent() ? VmState.WAITING_FOR_PVC : VmState.NOT_FOUND;
  }

  private static SwapAdmission.Claim claim(VmMemorySwap s, Map<String, String> nodes) {
    return new SwapAdmission.Claim(s.getMetadata().getNamespace(), s.getMetadata().getName(),
        s.getMetadata().getCreationTimestamp(), SwapAdmission.reserved(SwapVolumeModel.bytes(s.getSpec().memoryLimit),
            SwapVolumeModel.bytes(s.getSpec().size)),
        nodes.get(s.getMetadata().getNamespace() + "/" + s.getSpec().vmName));
  }

  /** Every swap the informer knows (not being deleted), with this one as it is now. */
  private static List<SwapAdmission.Claim> claims(VmMemorySwap self, Context<VmMemorySwap> context,
      Map<String, String> nodes) {
    String uid = self.getMetadata().getUid();
    return Stream.concat(Stream.of(self), context.getPrimaryCache().list()
            .filter(s -> !Objects.equals(uid, s.getMetadata().getUid()))
            .filter(s -> s.getMetadata().getDeletionTimestamp() == null))
        .map(s -> claim(s, nodes)).toList();
  }

  private static SwapObservation observation(VmMemorySwap swap, Volume volume, Vm vm, String pool, boolean aboveCap,
      Optional<SwapFigures> counters, String stageFailure) {
    return new SwapObservation(swap.getMetadata().getGeneration(), SwapNames.persistentVolume(swap),
        SwapNames.pvc(swap), volume, vm, pool, aboveCap, counters, null, stageFailure);
  }

  @Override
  public ErrorStatusUpdateControl<VmMemorySwap> updateErrorStatus(VmMemorySwap swap, Context<VmMemorySwap> context,
      Exception e) {
    VmMemorySwapStatus before = swap.getStatus();
    // The counters last read stay, all ten together, as when their node does not answer.
    SwapObservation o = new SwapObservation(swap.getMetadata().getGeneration(), SwapNames.persistentVolume(swap),
        SwapNames.pvc(swap), Volume.PENDING, new Vm(swap.getSpec().vmName, VmState.WAITING_FOR_PVC, null), null, false,
        SwapFigures.of(before), rootMessage(e), null);
    VmMemorySwapStatus status = VmMemorySwapStatusBuilder.build(o, previous(swap), Instant.now());
    if (before != null) {
      // What was observed before the failure is still the best knowledge of the volume, the VM and the node.
      status.pvcName = before.pvcName;
      status.volumeName = before.volumeName;
      status.attachedTo = before.attachedTo;
    }
    if (!StatusDiff.changed(before, status)) {
      return ErrorStatusUpdateControl.noStatusUpdate();
    }
    recordTransitions(context.getClient(), swap, status);
    swap.setStatus(status);
    return ErrorStatusUpdateControl.patchStatus(swap);
  }

  /**
   * The finalizer's work: take the disk out of the VM, then delete the PersistentVolume (cluster-
   * scoped, so no owner reference from the swap can reach it). The PVC goes with the garbage
   * collector; the node discards the pages when it unstages the volume (swap is not durable).
   */
  @Override
  public DeleteControl cleanup(VmMemorySwap swap, Context<VmMemorySwap> context) {
    VmAttacher attacher = new VmAttacher(new KubeVirtClient(context.getClient()));
    Optional<String> waiting = attacher.detach(swap.getMetadata().getNamespace(), swap.getSpec().vmName,
        SwapNames.vmDisk(swap), true);
    if (waiting.isPresent()) {
      // The PVC must not go while KubeVirt may still plug it into a running VM.
      LOG.infof("VmMemorySwap %s/%s waits to leave its VM: %s", swap.getMetadata().getNamespace(),
          swap.getMetadata().getName(), waiting.get());
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(RECHECK);
    }
    new SwapVolumes(context.getClient()).deletePersistentVolume(swap);
    return DeleteControl.defaultDelete();
  }

  private static UpdateControl<VmMemorySwap> patchIfChanged(VmMemorySwap swap, Context<VmMemorySwap> context,
      SwapObservation observation) {
    VmMemorySwapStatus status = VmMemorySwapStatusBuilder.build(observation, previous(swap), Instant.now());
    if (!StatusDiff.changed(swap.getStatus(), status)) {
      return UpdateControl.noUpdate();
    }
    recordTransitions(context.getClient(), swap, status);
    swap.setStatus(status);
    return UpdateControl.patchStatus(swap);
  }

  /** One event per condition whose reason changed to something the user should know. */
  private static void recordTransitions(KubernetesClient client, VmMemorySwap swap, VmMemorySwapStatus status) {
    for (Condition now : status.conditions) {
      Optional<Condition> before = Conditions.find(previous(swap), now.getType());
      boolean changed = before.map(b -> !Objects.equals(b.getReason(), now.getReason())
          || !Objects.equals(b.getStatus(), now.getStatus())).orElse(true);
      // PoolExhausted and VmNotFound are told by Degraded (a Warning) and Progressing being True.
      if (changed && Conditions.TRUE.equals(now.getStatus())) {
        EventRecorder.record(client, swap, ConditionTypes.DEGRADED.equals(now.getType()), now.getReason(),
            now.getMessage());
      }
    }
  }

  private static List<Condition> previous(VmMemorySwap swap) {
    return swap.getStatus() == null ? List.of() : swap.getStatus().conditions;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
