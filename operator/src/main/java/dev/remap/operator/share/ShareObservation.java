package dev.remap.operator.share;

import dev.remap.engine.share.ShareStatus;
import dev.remap.operator.disk.DiskObservation.Vm;
import java.util.List;
import java.util.Optional;

/**
 * What the reconciler found for a share, for {@link LogicalDiskShareStatusBuilder}.
 *
 * @param generation the share's metadata.generation
 * @param problem a setup problem that stops everything (no store configured, the cloud Secret
 *     missing or without its keys), as reason and sentence; null when none
 * @param missingVms VMs named in spec.allocation[].vmNames that do not exist
 * @param agent where the agent stands
 * @param report the agent's last status, when it answered (now or earlier: the previous status's
 *     figures are not in it; the builder keeps them when the agent does not answer)
 * @param agentProblem why the agent did not answer, when it did not
 * @param disks each VM disk and its VM's state
 * @param kubevirtMissing whether KubeVirt's API is absent
 */
public record ShareObservation(long generation, Problem problem, List<String> missingVms, Agent agent,
    Optional<ShareStatus> report, String agentProblem, List<DiskAttachment> disks, boolean kubevirtMissing) {

  /** A setup problem: its condition reason and sentence. */
  public record Problem(String reason, String message) {}

  public enum Agent { NOT_MADE, STARTING, ANSWERING, NOT_ANSWERING }

  /** A VM disk: which VM and group, its PVC and generation, the serial, and the VM side. */
  public record DiskAttachment(String vm, String group, String pvc, long generation, String serial, Vm state) {}

  public ShareObservation {
    missingVms = List.copyOf(missingVms);
    disks = List.copyOf(disks);
  }
}
