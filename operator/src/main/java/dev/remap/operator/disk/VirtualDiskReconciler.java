package dev.remap.operator.disk;

import dev.remap.api.common.ConditionTypes;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskStatus;
import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import dev.remap.operator.disk.DiskObservation.Pvc;
import dev.remap.operator.disk.DiskObservation.PvcPhase;
import dev.remap.operator.disk.DiskObservation.Vm;
import dev.remap.operator.disk.DiskObservation.VmState;
import dev.remap.api.disk.VirtualDiskStatus.ImportStatus;
import dev.remap.operator.transfer.JobModel;
import dev.remap.operator.transfer.JobSettings;
import dev.remap.operator.transfer.PodJobLogs;
import dev.remap.operator.transfer.RemapStore;
import dev.remap.operator.transfer.TransferSync;
import dev.remap.engine.volume.SpaceReport;
import dev.remap.engine.volume.Usage;
import dev.remap.operator.kubevirt.KubeVirtClient;
import dev.remap.operator.status.Conditions;
import dev.remap.operator.status.EventRecorder;
import dev.remap.operator.status.StatusDiff;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import java.time.Duration;
import java.time.Instant;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Objects;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * VirtualDisk: the PVC comes from the workflow (PvcDependent); this class observes, attaches
 * the bound disk to its VM, and reports. It keeps no state of its own: everything is re-read
 * each time, so a restart at any point converges.
 */
@ControllerConfiguration(name = VirtualDiskReconciler.NAME)
@Workflow(dependents = @Dependent(type = PvcDependent.class, reconcilePrecondition = PvcNotForeign.class))
public class VirtualDiskReconciler implements Reconciler<VirtualDisk>, Cleaner<VirtualDisk> {

  public static final String NAME = "virtualdisk";
  private final RemapStore remapStore;
  private final JobSettings jobs;

  @jakarta.inject.Inject
  public VirtualDiskReconciler(RemapStore remapStore, JobSettings jobs) {
    this.remapStore = remapStore;
    this.jobs = jobs;
  }
  private static final Logger LOG = Logger.getLogger(VirtualDiskReconciler.class);
  /** How often to look again while waiting on something that sends no event here (a VM, a class). */
  static final Duration RECHECK = Duration.ofSeconds(10);
  /** How often a bound disk's status.io, status.cache and status.space are read again from the store. */
  static final Duration USAGE_REFRESH = Duration.ofSeconds(30);
  /** How often a running transfer Job's progress is read from its pod's log. */
  static final Duration PROGRESS_POLL = Duration.ofSeconds(3);

  /**
   * The transfer Jobs, watched in the operator's namespace only (where they run), mapped back to
   * their disk by annotations: a Job that ends wakes its disk's reconcile at once.
   */
  @Override
  public List<EventSource<?, VirtualDisk>> prepareEventSources(EventSourceContext<VirtualDisk> context) {
    InformerEventSourceConfiguration<Job> config = InformerEventSourceConfiguration.from(Job.class, VirtualDisk.class)
        .withName("transfer-jobs")
        .withNamespaces(Set.of(jobs.config().namespace()))
        .withLabelSelector(PvcModel.LABEL_MANAGED_BY + "=" + PvcModel.MANAGER)
        .withSecondaryToPrimaryMapper(job -> {
          Map<String, String> a = job.getMetadata().getAnnotations();
          return a == null || a.get(JobModel.ANNOTATION_DISK_NAME) == null ? Set.of()
              : Set.of(new ResourceID(a.get(JobModel.ANNOTATION_DISK_NAME), a.get(JobModel.ANNOTATION_DISK_NAMESPACE)));
        })
        .build();
    return List.of(new InformerEventSource<>(config, context));
  }

  @Override
  public UpdateControl<VirtualDisk> reconcile(VirtualDisk disk, Context<VirtualDisk> context) {
    KubernetesClient client = context.getClient();
    String serial = DiskNames.serial(disk);
    Pvc pvc = observePvc(disk, context);
    TransferSync transfers = new TransferSync(client, jobs.config(), new PodJobLogs(client), jobsOf(context));
    // An import is done once its PersistentVolume exists (made last); a bound PVC proves it.
    ImportStatus importStatus = transfers.importing(disk, pvc.phase() == PvcPhase.BOUND || PvcModel.imports(disk.getSpec())
        && client.persistentVolumes().withName(DiskNames.imported(disk)).get() != null);
    boolean classExists = client.storage().v1().storageClasses().withName(disk.getSpec().storageClassName).get() != null;
    VmAttacher attacher = new VmAttacher(new KubeVirtClient(client));

    // A disk moved to another VM (or taken off one) leaves the old VM first.
    String attachedTo = disk.getStatus() == null ? null : disk.getStatus().attachedTo;
    String wanted = disk.getSpec().vm == null ? null : disk.getSpec().vm.name;
    Optional<String> leaving = attachedTo != null && !attachedTo.equals(wanted)
        ? attacher.detach(disk, attachedTo) : Optional.empty();
    Vm vm = leaving.isPresent() ? new Vm(attachedTo, VmState.DETACHING, leaving.get())
        : wanted == null ? Vm.notRequested()
        : pvc.phase() == PvcPhase.BOUND ? attacher.attach(disk, serial)
        : new Vm(wanted, VmState.WAITING_FOR_PVC, null);

    // Snapshots are of the bound volume: none is asked for before the PVC binds.
    List<SnapshotStatus> snapshots = pvc.phase() == PvcPhase.BOUND ? new SnapshotSync(client).sync(disk) : List.of();
    ExportStatus exportStatus = transfers.export(disk, snapshots);
    transfers.deleteStale(wantedJobs(disk));
    DiskObservation observation = new DiskObservation(disk.getMetadata().getGeneration(), pvc, classExists,
        disk.getSpec().storageClassName, vm, serial, snapshots, null, exportStatus, usage(pvc), importStatus,
        space(pvc));
    UpdateControl<VirtualDisk> control = patchIfChanged(disk, context,
        VirtualDiskStatusBuilder.build(observation, previous(disk), Instant.now()));
    if (transfers.comeBackSoon()) {
      return control.rescheduleAfter(PROGRESS_POLL); // a Job at work, or one to delete now that its outcome is recorded
    }
    // Nothing sends this controller events for VMs, StorageClasses, VolumeSnapshots or the
    // Events that explain why a PVC is still pending: look again.
    boolean waiting = vm.state().rechecked() || !classExists || pvc.phase() != PvcPhase.BOUND
        || snapshots.stream().anyMatch(x -> !Boolean.TRUE.equals(x.readyToUse) && x.error == null)
        || exportStatus != null && exportStatus.jobName == null;
    // The usage in the store changes while the disk is used, and no event says so: read it again.
    return waiting ? control.rescheduleAfter(RECHECK)
        : remapStore.configured() && pvc.volumeHandle() != null ? control.rescheduleAfter(USAGE_REFRESH) : control;
  }

  /** This disk's transfer Jobs, as the informer has them, by name. */
  private static Map<String, Job> jobsOf(Context<VirtualDisk> context) {
    Map<String, Job> byName = new HashMap<>();
    context.getSecondaryResources(Job.class).forEach(j -> byName.put(j.getMetadata().getName(), j));
    return byName;
  }

  /** The Jobs the spec asks for; any other Job of the disk is left over from an earlier spec. */
  private static Set<String> wantedJobs(VirtualDisk disk) {
    Set<String> wanted = new HashSet<>();
    if (disk.getSpec().export != null) {
      wanted.add(JobModel.exportJobName(disk));
    }
    if (PvcModel.imports(disk.getSpec())) {
      wanted.add(JobModel.importJobName(disk));
    }
    return wanted;
  }

  /** What the bound volume has served, from its lease in the store; null when unknown. */
  private Usage usage(Pvc pvc) {
    if (!remapStore.configured() || pvc.volumeHandle() == null) {
      return null;
    }
    try {
      return remapStore.catalog().orElseThrow().usage(pvc.volumeHandle()).orElse(null);
    } catch (java.io.IOException | RuntimeException e) {
      return null; // the status keeps reporting everything else; the next refresh tries again
    }
  }

  /** The bound volume's space, from its lease in the store; null when unknown. */
  private SpaceReport space(Pvc pvc) {
    if (!remapStore.configured() || pvc.volumeHandle() == null) {
      return null;
    }
    try {
      return remapStore.catalog().orElseThrow().space(pvc.volumeHandle()).orElse(null);
    } catch (java.io.IOException | RuntimeException e) {
      return null; // as for usage: the next refresh tries again
    }
  }

  @Override
  public ErrorStatusUpdateControl<VirtualDisk> updateErrorStatus(VirtualDisk disk, Context<VirtualDisk> context,
      Exception e) {
    String serial = disk.getMetadata().getUid() == null ? null : DiskNames.serial(disk);
    DiskObservation observation = new DiskObservation(disk.getMetadata().getGeneration(),
        Pvc.absent(DiskNames.pvc(disk)), true, disk.getSpec().storageClassName, Vm.notRequested(), serial,
        disk.getStatus() == null ? List.of() : disk.getStatus().snapshots, rootMessage(e),
        disk.getStatus() == null ? null : disk.getStatus().export, null,
        disk.getStatus() == null ? null : disk.getStatus().importStatus);
    VirtualDiskStatus status = VirtualDiskStatusBuilder.build(observation, previous(disk), Instant.now());
    if (disk.getStatus() != null) {
      // What was observed before the failure is still the best knowledge of the PVC, the VM and the store.
      status.pvcName = disk.getStatus().pvcName;
      status.volumeHandle = disk.getStatus().volumeHandle;
      status.capacity = disk.getStatus().capacity;
      status.attachedTo = disk.getStatus().attachedTo;
      status.io = disk.getStatus().io;
      status.cache = disk.getStatus().cache;
      status.space = disk.getStatus().space;
      Conditions.find(disk.getStatus().conditions, ConditionTypes.NO_SPACE).ifPresent(before ->
          status.conditions.replaceAll(c -> ConditionTypes.NO_SPACE.equals(c.getType()) ? before : c));
    }
    if (!StatusDiff.changed(disk.getStatus(), status)) {
      return ErrorStatusUpdateControl.noStatusUpdate();
    }
    recordTransitions(context.getClient(), disk, status);
    disk.setStatus(status);
    return ErrorStatusUpdateControl.patchStatus(disk);
  }

  /** The finalizer's work: take the disk out of its VM before Kubernetes deletes it and its PVC. */
  @Override
  public DeleteControl cleanup(VirtualDisk disk, Context<VirtualDisk> context) {
    // The disk's Jobs run in the operator's namespace, where no owner reference to it can reach.
    TransferSync.deleteAll(context.getClient(), jobs.config(), disk);
    VmAttacher attacher = new VmAttacher(new KubeVirtClient(context.getClient()));
    String attachedTo = disk.getStatus() == null ? null : disk.getStatus().attachedTo;
    Optional<String> waiting = attachedTo == null ? Optional.empty() : attacher.detach(disk, attachedTo);
    if (waiting.isEmpty() && disk.getSpec().vm != null && !Objects.equals(attachedTo, disk.getSpec().vm.name)) {
      // An attach may have happened just before a crash, without the status saying so.
      waiting = attacher.detach(disk, disk.getSpec().vm.name);
    }
    if (waiting.isPresent()) {
      // The PVC must not go while KubeVirt may still plug it into a running VM.
      LOG.infof("VirtualDisk %s/%s waits to leave its VM: %s", disk.getMetadata().getNamespace(),
          disk.getMetadata().getName(), waiting.get());
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(RECHECK);
    }
    return DeleteControl.defaultDelete();
  }

  private Pvc observePvc(VirtualDisk disk, Context<VirtualDisk> context) {
    String name = DiskNames.pvc(disk);
    KubernetesClient client = context.getClient();
    Optional<PersistentVolumeClaim> owned = context.getSecondaryResource(PersistentVolumeClaim.class);
    if (owned.isEmpty()) {
      PersistentVolumeClaim other = client.persistentVolumeClaims().inNamespace(disk.getMetadata().getNamespace())
          .withName(name).get();
      return new Pvc(name, PvcNotForeign.isForeign(other, disk) ? PvcPhase.FOREIGN : PvcPhase.ABSENT, null, null, null);
    }
    PersistentVolumeClaim pvc = owned.get();
    String phase = pvc.getStatus() == null ? null : pvc.getStatus().getPhase();
    if ("Bound".equals(phase)) {
      String handle = null;
      String volumeName = pvc.getSpec().getVolumeName();
      if (volumeName != null) {
        PersistentVolume pv = client.persistentVolumes().withName(volumeName).get();
        handle = pv != null && pv.getSpec().getCsi() != null ? pv.getSpec().getCsi().getVolumeHandle() : null;
      }
      Quantity capacity = pvc.getStatus().getCapacity() == null ? null : pvc.getStatus().getCapacity().get("storage");
      return new Pvc(name, PvcPhase.BOUND, handle, capacity == null ? null : capacity.toString(), null);
    }
    if ("Lost".equals(phase)) {
      return new Pvc(name, PvcPhase.LOST, null, null, null);
    }
    return new Pvc(name, PvcPhase.PENDING, null, null, lastEvent(client, pvc));
  }

  /** The newest event about the PVC: the PV controller and the provisioner say there why it waits. */
  private static String lastEvent(KubernetesClient client, PersistentVolumeClaim pvc) {
    List<Event> events = client.v1().events().inNamespace(pvc.getMetadata().getNamespace())
        .withField("involvedObject.uid", pvc.getMetadata().getUid()).list().getItems();
    return events.stream()
        .max(Comparator.comparing((Event e) -> Objects.toString(e.getLastTimestamp(), ""))
            .thenComparing(e -> Objects.toString(e.getMetadata().getCreationTimestamp(), "")))
        .map(e -> e.getReason() + ": " + e.getMessage())
        .orElse(null);
  }

  private static UpdateControl<VirtualDisk> patchIfChanged(VirtualDisk disk, Context<VirtualDisk> context,
      VirtualDiskStatus status) {
    if (!StatusDiff.changed(disk.getStatus(), status)) {
      return UpdateControl.noUpdate();
    }
    recordTransitions(context.getClient(), disk, status);
    disk.setStatus(status);
    return UpdateControl.patchStatus(disk);
  }

  /** One event per condition whose reason changed to something the user should know. */
  private static void recordTransitions(KubernetesClient client, VirtualDisk disk, VirtualDiskStatus status) {
    for (Condition now : status.conditions) {
      if (ConditionTypes.NO_SPACE.equals(now.getType())) {
        continue; // Degraded tells it, as a Warning (or already tells what else is wrong)
      }
      Optional<Condition> before = Conditions.find(previous(disk), now.getType());
      boolean changed = before.map(b -> !Objects.equals(b.getReason(), now.getReason())
          || !Objects.equals(b.getStatus(), now.getStatus())).orElse(true);
      if (changed && Conditions.TRUE.equals(now.getStatus())) {
        EventRecorder.record(client, disk, ConditionTypes.DEGRADED.equals(now.getType()), now.getReason(),
            now.getMessage());
      }
    }
  }

  private static List<Condition> previous(VirtualDisk disk) {
    return disk.getStatus() == null ? List.of() : disk.getStatus().conditions;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
