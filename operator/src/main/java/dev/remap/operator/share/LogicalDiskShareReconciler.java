package dev.remap.operator.share;

import dev.remap.api.common.ConditionTypes;
import dev.remap.api.common.GoDuration;
import dev.remap.api.share.LogicalDiskShare;
import dev.remap.api.share.LogicalDiskShareStatus;
import dev.remap.engine.share.ShareStatus;
import dev.remap.operator.disk.DiskObservation.Vm;
import dev.remap.operator.disk.DiskObservation.VmState;
import dev.remap.operator.disk.VmAttacher;
import dev.remap.operator.kubevirt.KubeVirtClient;
import dev.remap.operator.kubevirt.VirtualMachineView;
import dev.remap.operator.status.Conditions;
import dev.remap.operator.status.EventRecorder;
import dev.remap.operator.status.StatusDiff;
import dev.remap.operator.transfer.JobConfig;
import dev.remap.operator.transfer.JobSettings;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * LogicalDiskShare (seed 004, docs/SHARE.md): runs the share's agent (a Deployment of {@code remap
 * share-agent} in the operator's namespace, {@link ShareAgentModel}) with the VMs its allocation
 * picks ({@link ShareVms}), gives each VM disk the agent made a static PV and a PVC
 * ({@link ShareDiskModel}) and puts it into the VM ({@link VmAttacher}: spec, or hotplug while it
 * runs), moves a stopped VM to the newest generation (the agent's /rebase; a running one too when
 * spec.sync.newGenerations is hotplug: its new disk is hot-plugged beside the old) and lets the agent
 * release disks no VM uses, turns the agent's events into Kubernetes Events and reports
 * ({@link LogicalDiskShareStatusBuilder}). The data work is the agent's: nothing here waits on data.
 * The finalizer takes the disks out of the VMs, has the agent remove the share from the store
 * (its /delete: it sends what VMs wrote first, and refuses while the cloud has not got it), then
 * deletes the PVs and the agent.
 */
@ControllerConfiguration(name = LogicalDiskShareReconciler.NAME)
public class LogicalDiskShareReconciler implements Reconciler<LogicalDiskShare>, Cleaner<LogicalDiskShare> {

  public static final String NAME = "logicaldiskshare";
  private static final Logger LOG = Logger.getLogger(LogicalDiskShareReconciler.class);
  /** How soon to look again while something is on its way (the agent starting, a disk attaching). */
  static final Duration RECHECK = Duration.ofSeconds(3);
  static final String BUS = "virtio";
  /**
   * The bus of every disk of a share whose running VMs get new generations by hotplug: every
   * KubeVirt that hot-plugs at all does it on scsi (virtio-blk only in recent ones, one PCIe slot
   * each).
   */
  static final String HOTPLUG_BUS = "scsi";
  /** Set to "true" on a share, its deletion goes on although changes of its VMs never reached the cloud. */
  public static final String ABANDON_PENDING = "remap.dev/abandon-pending-uploads";
  /** How long a deletion waits for an agent pod that runs but does not answer before going on without it. */
  static final Duration AGENT_GRACE = Duration.ofMinutes(2);

  private final JobSettings jobs;
  private final ShareSettings settings;
  /** The last warning recorded per share being deleted (by uid), so a deletion that waits says so once per reason. */
  private final Map<String, String> deletionWarnings = new java.util.concurrent.ConcurrentHashMap<>();

  @jakarta.inject.Inject
  public LogicalDiskShareReconciler(JobSettings jobs, ShareSettings settings) {
    this.jobs = jobs;
    this.settings = settings;
  }

  @Override
  public UpdateControl<LogicalDiskShare> reconcile(LogicalDiskShare share, Context<LogicalDiskShare> context) {
    KubernetesClient client = context.getClient();
    JobConfig config = jobs.config();
    long generation = share.getMetadata().getGeneration();
    if (!config.storeConfigured()) {
      return patch(share, client, observation(generation, new ShareObservation.Problem("StoreNotConfigured",
          "The operator has no store to keep the share's disks in: install the chart with store.* set"
              + " (REMAP_STORE)")), Optional.empty());
    }
    ShareAgents agents = new ShareAgents(client, config);
    ShareAgents.UserSecret secret = agents.userSecret(share);
    if (secret.problem() != null) {
      return patch(share, client, observation(generation, new ShareObservation.Problem("SecretNotFound",
          secret.problem())), Optional.empty()).rescheduleAfter(settings.refresh());
    }
    KubeVirtClient kubevirt = new KubeVirtClient(client);
    boolean kubevirtMissing = !kubevirt.installed();
    ShareVms.Picked picked = kubevirtMissing ? new ShareVms.Picked(share.getSpec().allocation.stream()
        .map(a -> List.<String>of()).toList(), List.of(), Map.of()) : ShareVms.pick(kubevirt, share);
    Map<String, List<String>> groups = ShareAgentModel.groups(share.getSpec().allocation, picked.perEntry());
    agents.ensure(share, ShareAgentModel.args(share, groups, config, settings.agentPort()), settings.agentPort(),
        secret.data());

    ShareAgentClient agent = new ShareAgentClient(client, config.namespace());
    Optional<URI> address = agent.address(share.getMetadata().getUid());
    Optional<ShareStatus> report = Optional.empty();
    String agentProblem = null;
    ShareObservation.Agent agentState = ShareObservation.Agent.STARTING;
    if (address.isPresent()) {
      ShareAgentClient.Answer<ShareStatus> answer = agent.status(address.get());
      report = answer.value();
      agentProblem = answer.problem();
      agentState = report.isPresent() ? ShareObservation.Agent.ANSWERING
          : previouslyAnswered(share) ? ShareObservation.Agent.NOT_ANSWERING : ShareObservation.Agent.STARTING;
    }
    List<ShareObservation.DiskAttachment> attachments = new ArrayList<>();
    if (report.isPresent() && !kubevirtMissing) {
      attachments = attach(share, client, kubevirt, report.get(), groups.keySet());
      moveAndRelease(share, client, kubevirt, agent, address.get(), report.get(), groups.keySet());
    }
    ShareObservation o = new ShareObservation(generation, null, picked.missing(), agentState, report, agentProblem,
        attachments, kubevirtMissing);
    UpdateControl<LogicalDiskShare> control = patch(share, client, o, report);
    boolean settled = agentState == ShareObservation.Agent.ANSWERING
        && attachments.stream().allMatch(a -> a.state().state() == VmState.ATTACHED);
    return control.rescheduleAfter(settled ? settledRecheck(share) : RECHECK);
  }

  /**
   * How soon a settled share is looked at again: its agent re-checks the cloud every
   * spec.sync.retryInterval, and a lost connection should reach the status (Degraded) about as
   * soon, so the shorter of that (at least a second: every look costs a few API requests) and
   * REMAP_SHARE_REFRESH.
   */
  static Duration settledRecheck(LogicalDiskShare share, Duration refresh) {
    String retry = share.getSpec().sync == null ? null : share.getSpec().sync.retryInterval;
    Duration every = retry == null ? Duration.ofSeconds(1) : GoDuration.parse("spec.sync.retryInterval", retry);
    Duration atLeast = every.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : every;
    return atLeast.compareTo(refresh) < 0 ? atLeast : refresh;
  }

  private Duration settledRecheck(LogicalDiskShare share) {
    return settledRecheck(share, settings.refresh());
  }

  /** PV, PVC and the VM's spec for every disk the agent made for a VM the allocation still picks. */
  private List<ShareObservation.DiskAttachment> attach(LogicalDiskShare share, KubernetesClient client,
      KubeVirtClient kubevirt, ShareStatus report, java.util.Set<String> vms) {
    String ns = share.getMetadata().getNamespace();
    boolean readOnly = Boolean.TRUE.equals(share.getSpec().readOnly);
    ShareDisks disks = new ShareDisks(client);
    VmAttacher attacher = new VmAttacher(kubevirt);
    List<ShareObservation.DiskAttachment> out = new ArrayList<>();
    for (ShareStatus.Vm disk : report.vms()) {
      if (disk.retired() || !vms.contains(disk.vm())) {
        continue;
      }
      String pvc = ShareNames.pvc(share, disk.vm(), disk.group(), disk.generation());
      boolean hotplug = hotplugsGenerations(share);
      String serial = hotplug ? ShareNames.serial(share, disk.group(), disk.generation())
          : ShareNames.serial(share, disk.group());
      boolean bound = disks.ensure(share, new ShareDiskModel.Disk(disk.vm(), disk.group(), disk.volume(),
          disk.generation(), disk.size(), readOnly));
      Vm state;
      if (!bound) {
        state = new Vm(disk.vm(), VmState.WAITING_FOR_PVC, null);
      } else {
        detachOlder(share, client, kubevirt, attacher, ns, disk);
        state = attacher.attach(ns, disk.vm(), true, ShareNames.vmDisk(share, disk.group(), disk.generation()), pvc,
            serial, hotplug ? HOTPLUG_BUS : BUS);
      }
      out.add(new ShareObservation.DiskAttachment(disk.vm(), disk.group(), pvc, disk.generation(), serial, state));
    }
    return out;
  }

  /**
   * A stopped VM gives up its older generations' disk of the group before it takes the new one.
   * Stopped means neither its status nor a VirtualMachineInstance says it runs: a VM moved by
   * hotplug keeps its old disk, possibly mounted, until both say it stopped.
   */
  private static void detachOlder(LogicalDiskShare share, KubernetesClient client, KubeVirtClient kubevirt,
      VmAttacher attacher, String ns, ShareStatus.Vm disk) {
    String current = ShareNames.vmDisk(share, disk.group(), disk.generation());
    String prefix = ShareNames.vmDiskPrefix(share, disk.group());
    Optional<VirtualMachineView> vm = kubevirt.get(ns, disk.vm());
    if (vm.isEmpty() || vm.get().running() || ShareVms.hasInstance(client, ns, disk.vm())) {
      return;
    }
    for (VirtualMachineView.Entry volume : vm.get().volumes()) {
      if (volume.name() != null && volume.name().startsWith(prefix) && !volume.name().equals(current)) {
        attacher.detach(ns, disk.vm(), volume.name(), false);
      }
    }
  }

  /**
   * Asks the agent to move each stopped VM (no VirtualMachineInstance; any VM with hotplug) with
   * an older generation's disk to the newest one, and releases retired disks no VM spec mentions
   * any more.
   */
  private static void moveAndRelease(LogicalDiskShare share, KubernetesClient client, KubeVirtClient kubevirt,
      ShareAgentClient agent, URI address, ShareStatus report, java.util.Set<String> vms) {
    String ns = share.getMetadata().getNamespace();
    for (String vm : vms) {
      boolean behind = report.vms().stream().anyMatch(d -> d.vm().equals(vm) && !d.retired()
          && d.generation() < report.generation());
      // A running VM moves only when its new disk goes in beside the old one (hotplug): the agent
      // keeps the old disk, retired, and sends what the VM still writes there until it stops.
      if (behind && (hotplugsGenerations(share) || !ShareVms.hasInstance(client, ns, vm))) {
        ShareAgentClient.Answer<List<String>> moved = agent.rebase(address, vm);
        if (moved.problem() != null) {
          LOG.infof("LogicalDiskShare %s/%s: VM %s stays on its disks for now: %s", ns, share.getMetadata().getName(),
              vm, moved.problem());
        }
      }
    }
    ShareDisks disks = new ShareDisks(client);
    for (ShareStatus.Vm disk : report.vms()) {
      if (!disk.retired()) {
        continue;
      }
      String name = ShareNames.vmDisk(share, disk.group(), disk.generation());
      Optional<VirtualMachineView> vm = kubevirt.get(ns, disk.vm());
      if (vm.isPresent() && vm.get().mentions(name)) {
        if (!vm.get().running()) {
          new VmAttacher(kubevirt).detach(ns, disk.vm(), name, false);
        }
        continue;
      }
      disks.delete(share, disk.vm(), disk.group(), disk.generation());
      ShareAgentClient.Answer<String> released = agent.release(address, disk.volume());
      if (released.problem() != null) {
        LOG.infof("LogicalDiskShare %s/%s: disk %s is not released yet: %s", ns, share.getMetadata().getName(),
            disk.volume(), released.problem());
      }
    }
  }

  @Override
  public DeleteControl cleanup(LogicalDiskShare share, Context<LogicalDiskShare> context) {
    KubernetesClient client = context.getClient();
    KubeVirtClient kubevirt = new KubeVirtClient(client);
    String ns = share.getMetadata().getNamespace();
    ShareDisks disks = new ShareDisks(client);
    List<PersistentVolume> volumes = disks.all(share);
    if (!volumes.isEmpty() && kubevirt.installed()) {
      VmAttacher attacher = new VmAttacher(kubevirt);
      List<String> claims = volumes.stream().map(pv -> pv.getSpec().getClaimRef() == null ? null
          : pv.getSpec().getClaimRef().getName()).filter(Objects::nonNull).toList();
      for (VirtualMachineView vm : kubevirt.list(ns, new LabelSelector())) {
        for (VirtualMachineView.Entry volume : vm.volumes()) {
          if (claims.contains(volume.claimName())) {
            Optional<String> waiting = attacher.detach(ns, vm.name(), volume.name(), true);
            if (waiting.isPresent()) {
              LOG.infof("LogicalDiskShare %s/%s waits to leave VM %s: %s", ns, share.getMetadata().getName(),
                  vm.name(), waiting.get());
              return DeleteControl.noFinalizerRemoval().rescheduleAfter(RECHECK);
            }
          }
        }
      }
    }
    Optional<DeleteControl> removing = removeFromStore(share, client);
    if (removing.isPresent()) {
      return removing.get();
    }
    for (PersistentVolume pv : volumes) {
      client.persistentVolumes().withName(pv.getMetadata().getName()).delete();
    }
    // The agent goes with its Deployment (its Secret copy is owned by it); the PVCs go with the share.
    new ShareAgents(client, jobs.config()).delete(share);
    return DeleteControl.defaultDelete();
  }

  /**
   * Has the agent remove the share's volumes and shares/ID/ objects from the store, once its disks
   * left the VMs. Empty: done, or no agent runs (nothing is removed then: docs/SHARE.md, "Limits"),
   * or its pod has not answered for AGENT_GRACE since the deletion began; else the finalizer stays
   * and the cleanup asks again after RECHECK.
   */
  private Optional<DeleteControl> removeFromStore(LogicalDiskShare share, KubernetesClient client) {
    String uid = share.getMetadata().getUid();
    String what = share.getMetadata().getNamespace() + "/" + share.getMetadata().getName();
    ShareAgentClient agent = new ShareAgentClient(client, jobs.config().namespace());
    Optional<URI> address = agent.address(uid);
    if (address.isEmpty()) {
      LOG.infof("LogicalDiskShare %s: no agent runs, so nothing removes its disks and records from the store", what);
      deletionWarnings.remove(uid);
      return Optional.empty();
    }
    Map<String, String> annotations = share.getMetadata().getAnnotations();
    boolean abandon = annotations != null && "true".equals(annotations.get(ABANDON_PENDING));
    ShareAgentClient.Deletion deletion = agent.delete(address.get(), abandon);
    switch (deletion.outcome()) {
      case DELETED -> {
        LOG.infof("LogicalDiskShare %s removed from the store: %s", what, deletion.message());
        deletionWarnings.remove(uid);
        return Optional.empty();
      }
      case PENDING -> warnOnce(client, share, "PendingUploads", "The share is not deleted yet: "
          + deletion.pending() + " change(s) of its VMs have not reached the cloud (" + deletion.message()
          + "). It goes once they are sent; to delete it now and lose them, annotate it " + ABANDON_PENDING
          + "=\"true\"");
      case FAILED -> warnOnce(client, share, "DeleteFailed", "The share's disks and records could not be removed"
          + " from the store yet, trying again: " + deletion.message());
      case NOT_ANSWERING -> {
        String began = share.getMetadata().getDeletionTimestamp();
        if (began != null && Instant.parse(began).plus(AGENT_GRACE).isBefore(Instant.now())) {
          warnOnce(client, share, "AgentNotAnswering", "The share's agent did not answer for "
              + AGENT_GRACE.toMinutes() + " minutes, so the share goes without it: its disks and records stay in"
              + " the store (" + deletion.message() + ")");
          deletionWarnings.remove(uid);
          return Optional.empty();
        }
        LOG.infof("LogicalDiskShare %s waits for its agent: %s", what, deletion.message());
      }
    }
    return Optional.of(DeleteControl.noFinalizerRemoval().rescheduleAfter(RECHECK));
  }

  private void warnOnce(KubernetesClient client, LogicalDiskShare share, String reason, String message) {
    String said = reason + ": " + message;
    if (!said.equals(deletionWarnings.put(share.getMetadata().getUid(), said))) {
      EventRecorder.record(client, share, true, reason, message);
    }
  }

  /** spec.sync.newGenerations is hotplug. */
  static boolean hotplugsGenerations(LogicalDiskShare share) {
    return share.getSpec().sync != null
        && share.getSpec().sync.newGenerations == dev.remap.api.share.SyncPolicy.NewGenerations.HOTPLUG;
  }

  private static boolean previouslyAnswered(LogicalDiskShare share) {
    return share.getStatus() != null && share.getStatus().generation != null;
  }

  private static ShareObservation observation(long generation, ShareObservation.Problem problem) {
    return new ShareObservation(generation, problem, List.of(), ShareObservation.Agent.NOT_MADE, Optional.empty(),
        null, List.of(), false);
  }

  private static UpdateControl<LogicalDiskShare> patch(LogicalDiskShare share, KubernetesClient client,
      ShareObservation o, Optional<ShareStatus> report) {
    LogicalDiskShareStatus status = LogicalDiskShareStatusBuilder.build(share, o, Instant.now());
    status.lastEvent = forwardEvents(share, client, report);
    if (!StatusDiff.changed(share.getStatus(), status)) {
      return UpdateControl.noUpdate();
    }
    recordTransitions(client, share, status);
    share.setStatus(status);
    return UpdateControl.patchStatus(share);
  }

  /** Makes Kubernetes Events of the agent's events newer than the last forwarded; answers the newest time. */
  private static String forwardEvents(LogicalDiskShare share, KubernetesClient client, Optional<ShareStatus> report) {
    String last = share.getStatus() == null ? null : share.getStatus().lastEvent;
    if (report.isEmpty()) {
      return last;
    }
    Instant since = last == null ? Instant.MIN : Instant.parse(last);
    Instant newest = since;
    for (ShareStatus.Event event : report.get().events()) {
      if (event.at().isAfter(since)) {
        EventRecorder.record(client, share, event.warning(), event.warning() ? "SyncProblem" : "Synced",
            event.message());
        newest = event.at().isAfter(newest) ? event.at() : newest;
      }
    }
    return newest.equals(Instant.MIN) ? null : newest.toString();
  }

  private static void recordTransitions(KubernetesClient client, LogicalDiskShare share, LogicalDiskShareStatus status) {
    List<Condition> before = share.getStatus() == null ? List.of() : share.getStatus().conditions;
    for (Condition now : status.conditions) {
      Optional<Condition> was = Conditions.find(before, now.getType());
      boolean changed = was.map(b -> !Objects.equals(b.getReason(), now.getReason())
          || !Objects.equals(b.getStatus(), now.getStatus())).orElse(true);
      if (changed && Conditions.TRUE.equals(now.getStatus()) && !ConditionTypes.PROGRESSING.equals(now.getType())) {
        EventRecorder.record(client, share, ConditionTypes.DEGRADED.equals(now.getType()), now.getReason(),
            now.getMessage());
      }
    }
  }
}
