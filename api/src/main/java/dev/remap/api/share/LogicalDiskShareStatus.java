package dev.remap.api.share;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.StatusBase;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed of a share, mostly as its agent reports it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LogicalDiskShareStatus extends StatusBase {
  @JsonPropertyDescription("Whether the cloud disk answered at the agent's last check (every sync.retryInterval).")
  public Boolean connected;

  @JsonPropertyDescription("Number of logical disks (the length of status.disks).")
  public Integer diskCount;

  @JsonPropertyDescription("Number of VMs with disks of this share (the length of status.vms).")
  public Integer vmCount;

  @JsonPropertyDescription("The base generation new VM starts get: 1 from the first fetch, one more per pull that found changes.")
  public Long generation;

  @JsonPropertyDescription("Changes made by VMs that wait to reach the cloud (kept durably while it is unreachable).")
  public Long pendingUploads;

  @JsonPropertyDescription("When the share last had nothing waiting to go up while the cloud answered.")
  public String lastSync;

  @JsonPropertyDescription("When the newest of the agent's events (what was uploaded, pulled, in conflict) happened;"
      + " the operator has made Kubernetes Events of all up to it.")
  public String lastEvent;

  @JsonPropertyDescription("Totals since the share was made.")
  public Counters counters;

  @JsonPropertyDescription("One entry per logical disk (group) of the current generation.")
  public List<DiskState> disks = new ArrayList<>();

  @JsonPropertyDescription("One entry per VM given disks of this share.")
  public List<VmState> vms = new ArrayList<>();

  /** Totals of the share's synchronisation. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Counters {
    @JsonPropertyDescription("Files fetched from the cloud (first fetch and pulls).")
    public Long pulled;

    @JsonPropertyDescription("Changes made in the cloud for VMs (uploads, deletes, conflict copies).")
    public Long uploaded;

    @JsonPropertyDescription("Changes the share itself made that later listings showed: known, never fetched again.")
    public Long ownChangesSkipped;

    @JsonPropertyDescription("Files changed both in the cloud and in a VM.")
    public Long conflicts;
  }

  /** The state of one logical disk. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class DiskState {
    @JsonPropertyDescription("The group (spec.split): all, a top-level folder, a data type or spec.split.others.")
    public String group;

    @JsonPropertyDescription("Size of the disk (files, filesystem metadata and spec.freeSpace).")
    public String size;

    @JsonPropertyDescription("Files on the disk.")
    public Long files;

    @JsonPropertyDescription("Bytes of those files.")
    public Long bytes;

    @JsonPropertyDescription("The generation the disk belongs to.")
    public Long generation;

    @JsonPropertyDescription("Files of the group the filesystem cannot hold (at most 20 listed; skippedCount has them all).")
    public List<SkippedFile> skipped = new ArrayList<>();

    public Long skippedCount;
  }

  /** A cloud file left off a disk, and why. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SkippedFile {
    public String name;
    public String reason;
  }

  /** What one VM has of the share. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class VmState {
    public String name;

    @JsonPropertyDescription("The groups whose disks the VM has, each with its PVC and generation.")
    public List<VmDisk> disks = new ArrayList<>();

    @JsonPropertyDescription("The VM's changes waiting to reach the cloud.")
    public Long pendingUploads;

    @JsonPropertyDescription("Files this VM changed that had also changed in the cloud.")
    public Long conflicts;
  }

  /** One disk of a VM. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class VmDisk {
    public String group;
    public String pvcName;
    public Long generation;

    @JsonPropertyDescription("The disk's serial in the guest (/dev/disk/by-id/virtio-SERIAL).")
    public String serial;

    @JsonPropertyDescription("Whether the disk is in the VM's spec (it reaches a running VM by hotplug).")
    public Boolean attached;
  }
}
