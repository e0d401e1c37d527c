package dev.remap.api.share;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.remap.api.common.Cel;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Direction and timing of synchronisation; retryInterval is how often a disconnected share re-checks (seed 004: 1 s). */
@JsonInclude(JsonInclude.Include.NON_NULL)
// Floors, so that no agent is made that refuses its arguments (a crash loop) or hammers the
// cloud: the pattern's own error covers a malformed value, so the rules only judge well-formed ones.
@ValidationRule(value = "!has(self.retryInterval) || !self.retryInterval.matches('" + SyncPolicy.WELL_FORMED + "')"
    + " || duration(self.retryInterval) >= duration('100ms')",
    message = "spec.sync.retryInterval must be at least 100ms", fieldPath = ".retryInterval", reason = "FieldValueInvalid")
@ValidationRule(value = "!has(self.interval) || !self.interval.matches('" + SyncPolicy.WELL_FORMED + "')"
    + " || duration(self.interval) >= duration('1s')",
    message = "spec.sync.interval must be at least 1s", fieldPath = ".interval", reason = "FieldValueInvalid")
public class SyncPolicy {

  /** Cel.DURATION_PATTERN written without a backslash, which a CEL string literal would take as an escape. */
  static final String WELL_FORMED = "^([0-9]+([.][0-9]+)?(ms|s|m|h))+$";

  public enum Direction {
    @JsonProperty("pull") PULL,
    @JsonProperty("push") PUSH,
    @JsonProperty("both") BOTH
  }

  @Default("both")
  @JsonPropertyDescription("pull (cloud to VMs), push (VM writes to the cloud) or both (default).")
  public Direction direction = Direction.BOTH;

  @Default("\"30s\"")
  @Size(max = 32)
  @Pattern(Cel.DURATION_PATTERN)
  @JsonPropertyDescription("How often to look for changes in the cloud disk, e.g. 30s (default) or 5m.")
  public String interval = "30s";

  public enum Conflicts {
    @JsonProperty("keepBoth") KEEP_BOTH,
    @JsonProperty("cloudWins") CLOUD_WINS,
    @JsonProperty("vmWins") VM_WINS
  }

  @Default("keepBoth")
  @JsonPropertyDescription("When a file changed both in the cloud and in a VM: keepBoth (default: the VM's version is"
      + " uploaded next to the cloud's as 'NAME (conflict VM TIME).EXT'), cloudWins (the VM's change is dropped) or"
      + " vmWins (the VM's version replaces the cloud's). A VM's delete reaches the cloud only while the cloud's copy"
      + " is unchanged, except with vmWins.")
  public Conflicts conflicts = Conflicts.KEEP_BOTH;

  public enum NewGenerations {
    @JsonProperty("nextStart") NEXT_START,
    @JsonProperty("hotplug") HOTPLUG
  }

  @Default("nextStart")
  @JsonPropertyDescription("How a VM gets a new generation of its disks (the cloud's changes): nextStart (default: a"
      + " stopped VM's disks are replaced, a running VM's when it stops) or hotplug (a running VM also gets the new"
      + " generation's disk hot-plugged beside the one it has, which stays until the VM stops; the guest mounts the"
      + " new one when it likes; every disk of such a share is on the scsi bus and has a serial of its own per"
      + " generation). Blocks never change under a mounted filesystem either way.")
  public NewGenerations newGenerations = NewGenerations.NEXT_START;

  @Default("\"1s\"")
  @Size(max = 32)
  @Pattern(Cel.DURATION_PATTERN)
  @JsonPropertyDescription("While disconnected, how often to re-check the connection (default 1s); pending uploads go on reconnection.")
  public String retryInterval = "1s";
}
