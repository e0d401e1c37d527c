package dev.remap.api.swap;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.StatusBase;

/**
 * What the operator made for the swap, and the counters of its memory pool as the node serving
 * it reports them. The counters are absent while no node has reported them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VmMemorySwapStatus extends StatusBase {
  @JsonPropertyDescription("The PersistentVolumeClaim of the swap disk (NAME-swap).")
  public String pvcName;

  @JsonPropertyDescription("The static PersistentVolume of the swap disk (remap-swap-UID).")
  public String volumeName;

  @JsonPropertyDescription("The VirtualMachine whose spec holds the swap disk.")
  public String attachedTo;

  @JsonPropertyDescription("Bytes of swapped-out pages held in the memory pool.")
  public Long residentBytes;

  @JsonPropertyDescription("Bytes of swapped-out pages in the spill tier.")
  public Long spilledBytes;

  @JsonPropertyDescription("Pages swapped out (written by the guest) so far.")
  public Long swapOuts;

  @JsonPropertyDescription("Pages swapped in (read by the guest) so far.")
  public Long swapIns;

  @JsonPropertyDescription("Pool pages that became a disk page's physical unit without a copy.")
  public Long remaps;

  @JsonPropertyDescription("Pool pages given back because their disk page was overwritten or discarded.")
  public Long pagesReleased;

  @JsonPropertyDescription("Pages written to the spill tier under pool pressure.")
  public Long spillWrites;

  @JsonPropertyDescription("Pages loaded back from the spill tier into the pool.")
  public Long spillLoads;

  @JsonPropertyDescription("Discard (TRIM / WRITE_ZEROES) requests from the guest.")
  public Long discards;

  @JsonPropertyDescription("Payload bytes copied inside the engine; 0 for pool-resident traffic.")
  public Long bytesCopied;
}
