package dev.remap.api.share;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.StatusBase;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed of a share. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LogicalDiskShareStatus extends StatusBase {
  @JsonPropertyDescription("Whether the cloud disk answered at the last check.")
  public Boolean connected;

  @JsonPropertyDescription("Number of logical disks (the length of status.disks).")
  public Integer diskCount;

  @JsonPropertyDescription("When the last synchronisation finished.")
  public String lastSync;

  @JsonPropertyDescription("One entry per logical disk.")
  public List<DiskState> disks = new ArrayList<>();

  /** The state of one logical disk. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class DiskState {
    public String group;
    public String size;
    public Long files;
    public String lastSync;
    public Long pendingUploads;
  }
}
