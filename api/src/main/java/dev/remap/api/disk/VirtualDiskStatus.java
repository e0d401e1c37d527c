package dev.remap.api.disk;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.StatusBase;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed of a disk; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualDiskStatus extends StatusBase {

  @JsonPropertyDescription("Pending, Provisioning, Bound, Attaching, Attached, Detaching or Failed.")
  public String phase;

  @JsonPropertyDescription("The PVC that holds the disk.")
  public String pvcName;

  @JsonPropertyDescription("The CSI volume handle of the bound PersistentVolume.")
  public String volumeHandle;

  @JsonPropertyDescription("Capacity of the bound volume.")
  public String capacity;

  @JsonPropertyDescription("The serial given to the VM (spec.vm.serial or the one derived from the uid).")
  public String serial;

  @JsonPropertyDescription("The VirtualMachine the disk is in the spec of, when it is.")
  public String attachedTo;

  @JsonPropertyDescription("One entry per spec.snapshots entry.")
  public List<SnapshotStatus> snapshots = new ArrayList<>();

  @JsonPropertyDescription("The state of spec.export, when it is set.")
  public ExportStatus export;

  @JsonProperty("import")
  @JsonPropertyDescription("The state of spec.source.import, while and after it runs.")
  public ImportStatus importStatus;

  @JsonPropertyDescription("Cache hit counters reported by the data plane.")
  public CacheSummary cache;

  @JsonPropertyDescription("I/O counters reported by the data plane.")
  public IoSummary io;

  @JsonPropertyDescription("How much of Remap's store the disk takes, as the node serving it last measured it.")
  public SpaceSummary space;

  /** The state of one requested snapshot. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SnapshotStatus {
    public String name;
    public String volumeSnapshotName;
    public Boolean readyToUse;
    public String error;
  }

  /** How far a copy done by a Job (an export or an import) got. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class TransferStatus {
    @JsonPropertyDescription("The store copied to or from (the spec's storeUri when this was written).")
    public String storeUri;
    @JsonPropertyDescription("Pending (waiting for a snapshot or for the Job's pod to start), Running, Succeeded or Failed.")
    public String phase;
    @JsonPropertyDescription("The Job in the operator's namespace that does the copy.")
    public String jobName;
    @JsonPropertyDescription("Bytes of data copied so far (0 when the target held the result already).")
    public Long bytes;
    @JsonPropertyDescription("Bytes of data the copy moves in all.")
    public Long totalBytes;
    @JsonPropertyDescription("bytes of totalBytes, in whole percent (100 once Succeeded).")
    public Integer percent;
    @JsonPropertyDescription("When the copy finished (RFC 3339).")
    public String completionTime;
    @JsonPropertyDescription("What is happening, or on failure the reason (the Job pod's termination message).")
    public String message;
  }

  /** The export of spec.export: which snapshot went where, and how far it got. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ExportStatus extends TransferStatus {
    @JsonPropertyDescription("The snapshot exported (spec.export.snapshot when this was written).")
    public String snapshot;
  }

  /** The import of spec.source.import into Remap's store. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ImportStatus extends TransferStatus {
  }

  /** Hits and misses of the RAM and local-disk caches. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class CacheSummary {
    public Long ramHits;
    public Long ramMisses;
    public Long diskHits;
    public Long diskMisses;
  }

  /** The store's bytes for the disk's data: what it references, what its segments take, what cleaning copied. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SpaceSummary {
    @JsonPropertyDescription("Bytes of the disk's data its store segments hold and the disk still references.")
    public Long liveBytes;
    @JsonPropertyDescription("Bytes of the disk's segments in the store, dead data included.")
    public Long storedBytes;
    @JsonPropertyDescription("storedBytes per liveBytes with two decimals, e.g. \"1.23\" (\"Inf\" when nothing stored is live).")
    public String amplification;
    @JsonPropertyDescription("Live bytes the segment cleaner copied out of partly dead segments since the disk was made.")
    public Long cleanedBytes;
  }

  /** Bytes and requests served. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class IoSummary {
    public Long readBytes;
    public Long writtenBytes;
    public Long reads;
    public Long writes;
  }
}
