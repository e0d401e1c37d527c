package dev.remap.api.swap;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.StatusBase;

/** Counters of the memory pool, reported by the data plane. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VmMemorySwapStatus extends StatusBase {
  @JsonPropertyDescription("Bytes of swapped-out pages held in the memory pool.")
  public Long residentBytes;

  @JsonPropertyDescription("Bytes of swapped-out pages in the spill tier.")
  public Long spilledBytes;

  @JsonPropertyDescription("Pages swapped out (written by the guest) so far.")
  public Long swapOuts;

  @JsonPropertyDescription("Pages swapped in (read by the guest) so far.")
  public Long swapIns;
}
