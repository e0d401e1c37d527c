package dev.remap.operator.share;

import static dev.remap.api.common.ConditionTypes.DEGRADED;
import static dev.remap.api.common.ConditionTypes.PROGRESSING;
import static dev.remap.api.common.ConditionTypes.READY;

import dev.remap.api.share.LogicalDiskShare;
import dev.remap.api.share.LogicalDiskShareStatus;
import dev.remap.engine.share.Generation;
import dev.remap.engine.share.ShareStatus;
import dev.remap.operator.disk.DiskObservation.VmState;
import dev.remap.operator.status.Conditions;
import dev.remap.operator.status.Conditions.Desired;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a LogicalDiskShare's status from an observation. Pure. The first thing that keeps the
 * share from serving its VMs decides the Ready reason; the message names the field or object to
 * act on. When the agent does not answer, the figures the status showed last stay (they are the
 * best knowledge of the share) and Progressing says why.
 */
public final class LogicalDiskShareStatusBuilder {

  /** At most this many skipped files are listed per disk (skippedCount has them all). */
  static final int SKIPPED_LISTED = 20;

  private LogicalDiskShareStatusBuilder() {}

  record Verdict(boolean ready, boolean progressing, boolean degraded, String reason, String message) {}

  public static LogicalDiskShareStatus build(LogicalDiskShare share, ShareObservation o, Instant now) {
    LogicalDiskShareStatus previous = share.getStatus();
    LogicalDiskShareStatus s = new LogicalDiskShareStatus();
    s.observedGeneration = o.generation();
    if (o.report().isPresent()) {
      fill(s, o.report().get(), o.disks());
    } else if (previous != null) {
      // The agent did not answer: what it said last is still the best knowledge.
      s.connected = previous.connected;
      s.diskCount = previous.diskCount;
      s.vmCount = previous.vmCount;
      s.generation = previous.generation;
      s.pendingUploads = previous.pendingUploads;
      s.lastSync = previous.lastSync;
      s.counters = previous.counters;
      s.disks = previous.disks;
      s.vms = previous.vms;
    }
    Verdict v = verdict(share, o);
    List<Condition> before = previous == null ? List.of() : previous.conditions;
    s.conditions = Conditions.build(before, o.generation(), now, List.of(
        new Desired(READY, v.ready(), v.reason(), v.message()),
        new Desired(PROGRESSING, v.progressing(), v.progressing() ? v.reason() : "Done",
            v.progressing() ? v.message() : "Nothing to do"),
        new Desired(DEGRADED, v.degraded(), v.degraded() ? v.reason() : "AsExpected",
            v.degraded() ? v.message() : "No problem found")));
    return s;
  }

  private static void fill(LogicalDiskShareStatus s, ShareStatus r, List<ShareObservation.DiskAttachment> disks) {
    s.connected = r.connected();
    s.generation = r.generation() == 0 ? null : r.generation();
    s.lastSync = r.lastSync() == null ? null : r.lastSync().toString();
    s.counters = new LogicalDiskShareStatus.Counters();
    s.counters.pulled = r.counters().pulled();
    s.counters.uploaded = r.counters().uploaded();
    s.counters.ownChangesSkipped = r.counters().ownSkipped();
    s.counters.conflicts = r.counters().conflicts();
    for (ShareStatus.Disk disk : r.disks()) {
      LogicalDiskShareStatus.DiskState d = new LogicalDiskShareStatus.DiskState();
      d.group = disk.group();
      d.size = Long.toString(disk.size());
      d.files = disk.files();
      d.bytes = disk.bytes();
      d.generation = r.generation();
      for (Generation.Skipped skipped : disk.skipped().subList(0, Math.min(SKIPPED_LISTED, disk.skipped().size()))) {
        LogicalDiskShareStatus.SkippedFile f = new LogicalDiskShareStatus.SkippedFile();
        f.name = skipped.cloudName();
        f.reason = skipped.reason();
        d.skipped.add(f);
      }
      d.skippedCount = (long) disk.skipped().size();
      s.disks.add(d);
    }
    s.diskCount = s.disks.size();
    Map<String, LogicalDiskShareStatus.VmState> vms = new LinkedHashMap<>();
    long pending = 0;
    for (ShareStatus.Vm vm : r.vms()) {
      if (vm.retired()) {
        continue;
      }
      LogicalDiskShareStatus.VmState state = vms.computeIfAbsent(vm.vm(), name -> {
        LogicalDiskShareStatus.VmState n = new LogicalDiskShareStatus.VmState();
        n.name = name;
        n.pendingUploads = vm.pending();
        n.conflicts = vm.conflicts();
        return n;
      });
      LogicalDiskShareStatus.VmDisk disk = new LogicalDiskShareStatus.VmDisk();
      disk.group = vm.group();
      disk.generation = vm.generation();
      for (ShareObservation.DiskAttachment a : disks) {
        if (a.vm().equals(vm.vm()) && a.group().equals(vm.group()) && a.generation() == vm.generation()) {
          disk.pvcName = a.pvc();
          disk.serial = a.serial();
          disk.attached = a.state().state() == VmState.ATTACHED;
        }
      }
      state.disks.add(disk);
    }
    for (LogicalDiskShareStatus.VmState vm : vms.values()) {
      pending += vm.pendingUploads == null ? 0 : vm.pendingUploads;
    }
    s.vms = new ArrayList<>(vms.values());
    s.vmCount = s.vms.size();
    s.pendingUploads = pending;
  }

  static Verdict verdict(LogicalDiskShare share, ShareObservation o) {
    String where = "bucket " + share.getSpec().cloud.bucket
        + (share.getSpec().cloud.prefix == null || share.getSpec().cloud.prefix.isEmpty() ? ""
            : " (prefix " + share.getSpec().cloud.prefix + ")")
        + (share.getSpec().cloud.endpoint == null ? "" : " at " + share.getSpec().cloud.endpoint);
    if (o.problem() != null) {
      return new Verdict(false, false, true, o.problem().reason(), o.problem().message());
    }
    if (o.agent() == ShareObservation.Agent.NOT_MADE || o.agent() == ShareObservation.Agent.STARTING) {
      return new Verdict(false, true, false, "StartingAgent", "The share's agent is starting"
          + (o.agentProblem() == null ? "" : ": " + o.agentProblem()));
    }
    if (o.agent() == ShareObservation.Agent.NOT_ANSWERING) {
      return new Verdict(false, true, false, "AgentNotAnswering", "The share's agent does not answer; the status shows"
          + " what it said last: " + o.agentProblem());
    }
    ShareStatus r = o.report().orElseThrow();
    if (!r.connected()) {
      String reason = switch (r.errorReason()) {
        case "NO_BUCKET" -> "BucketNotFound";
        case "CREDENTIALS" -> "CredentialsRejected";
        case "ACCESS_DENIED" -> "AccessDenied";
        case "UNREACHABLE" -> "CloudUnreachable";
        default -> "CloudFailed";
      };
      return new Verdict(false, false, true, reason, "The cloud disk (" + where + ", spec.cloud) cannot be used: "
          + r.lastError() + (r.generation() > 0 ? "; VMs keep their disks and their changes wait in the outbox ("
          + pending(r) + " pending)" : "; no disk is built until it answers"));
    }
    if (!o.missingVms().isEmpty()) {
      return new Verdict(false, true, true, "VmNotFound", "VirtualMachine " + String.join(", ", o.missingVms())
          + " (spec.allocation[].vmNames) does not exist in this namespace; it gets its disks when it does");
    }
    // Before the groups: a prefix with no files at all lacks every folder, and the prefix is what to fix.
    if (r.generation() > 0 && r.disks().stream().allMatch(d -> d.files() == 0) && r.counters().pulled() == 0) {
      return new Verdict(false, false, true, "EmptyPrefix", "The cloud disk (" + where + ") holds no files: the"
          + " disks are empty (VMs can still add files, which go up to the cloud)");
    }
    if (!r.missing().isEmpty()) {
      ShareStatus.Missing first = r.missing().get(0);
      return new Verdict(false, false, true, "GroupNotFound", "VirtualMachine " + first.vm() + " is given group '"
          + first.group() + "' (spec.allocation[].disks), which the cloud disk does not have: " + where
          + " has no such folder or no group of that name" + (r.missing().size() > 1 ? " (and "
          + (r.missing().size() - 1) + " more)" : ""));
    }
    if (o.kubevirtMissing()) {
      return new Verdict(false, true, false, "KubeVirtNotInstalled",
          "The API server does not serve kubevirt.io/v1 VirtualMachines: install KubeVirt");
    }
    for (ShareObservation.DiskAttachment disk : o.disks()) {
      VmState state = disk.state().state();
      if (state == VmState.FAILED) {
        return new Verdict(false, true, true, "AttachFailed", "Attaching " + disk.pvc() + " to VirtualMachine "
            + disk.vm() + " failed and will be retried: " + disk.state().detail());
      }
      if (state != VmState.ATTACHED) {
        return new Verdict(false, true, false, "Attaching", "Disk " + disk.group() + " (PersistentVolumeClaim "
            + disk.pvc() + ") is on its way into VirtualMachine " + disk.vm() + " (" + state + ")");
      }
    }
    long vms = o.disks().stream().map(ShareObservation.DiskAttachment::vm).distinct().count();
    return new Verdict(true, false, false, "Shared", r.disks().size() + " disk(s) of generation " + r.generation()
        + " given to " + vms + " VM(s); " + pending(r) + " change(s) waiting to reach the cloud");
  }

  private static long pending(ShareStatus r) {
    Map<String, Long> byVm = new LinkedHashMap<>();
    r.vms().forEach(vm -> byVm.put(vm.vm(), vm.pending()));
    return byVm.values().stream().mapToLong(Long::longValue).sum();
  }
}
