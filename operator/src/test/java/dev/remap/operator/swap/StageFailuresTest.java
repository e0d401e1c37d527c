package dev.remap.operator.swap;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.MicroTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageFailuresTest {

  static final String PV = "remap-swap-0b3c9a52-7d1e-4f60-9a1b-3c2d4e5f6a7b";
  static final String HANDLE = "swap/vms/s";
  /** The node plugin's sentence for a spill location that is not a directory (csi-driver's SwapVolumes). */
  static final String SPILL = "volume_context.remap.dev/swap-spill-location (spill.location): /nope is not a directory"
      + " on node node-1: the swap disk's spill file is made there";

  /** A kubelet event on the launcher pod, as the kubelet words a failed block-volume stage. */
  static Event kubelet(String type, String reason, String lastTimestamp, String message) {
    return new EventBuilder().withNewMetadata().withName("e-" + lastTimestamp).endMetadata()
        .withType(type).withReason(reason).withLastTimestamp(lastTimestamp).withMessage(message).build();
  }

  static String failedMap(String pv, String desc) {
    return "MapVolume.SetUpDevice failed for volume \"" + pv + "\" : kubernetes.io/csi: blockMapper.stageVolumeForBlock"
        + " failed: rpc error: code = InvalidArgument desc = " + desc;
  }

  @Test
  void theNewestWarningNamingTheDiskGivesTheNodesSentence() {
    List<Event> events = List.of(
        kubelet("Normal", "SuccessfulAttachVolume", "2026-12-05T10:00:00Z",
            "AttachVolume.Attach succeeded for volume \"" + PV + "\""),
        kubelet("Warning", "FailedMapVolume", "2026-12-05T10:00:05Z", failedMap(PV, "an older refusal")),
        kubelet("Warning", "FailedMapVolume", "2026-12-05T10:00:09Z", failedMap(PV, SPILL)),
        kubelet("Warning", "FailedMapVolume", "2026-12-05T10:00:30Z", failedMap("remap-swap-other", "not ours")),
        kubelet("Warning", "BackOff", "2026-12-05T10:00:40Z", "Back-off restarting failed container"));
    assertThat(StageFailures.choose(events, PV, HANDLE)).contains(SPILL);
    assertThat(StageFailures.reason(SPILL)).isEqualTo("SpillLocationInvalid");
  }

  @Test
  void aNewerNormalEventNamingTheDiskClearsIt() {
    List<Event> events = List.of(
        kubelet("Warning", "FailedMapVolume", "2026-12-05T10:00:09Z", failedMap(PV, SPILL)),
        kubelet("Normal", "SuccessfulMountVolume", "2026-12-05T10:01:00Z",
            "MapVolume.MapPodDevice succeeded for volume \"" + PV + "\" volumeMapPath \"/var/lib/kubelet/x\""));
    assertThat(StageFailures.choose(events, PV, HANDLE)).isEmpty();
    // In the same second the success wins: the kubelet maps after the stage worked.
    List<Event> sameSecond = List.of(events.get(0), kubelet("Normal", "SuccessfulMountVolume", "2026-12-05T10:00:09Z",
        "MapVolume.MapPodDevice succeeded for volume \"" + PV + "\""));
    assertThat(StageFailures.choose(sameSecond, PV, HANDLE)).isEmpty();
    assertThat(StageFailures.choose(List.of(), PV, HANDLE)).isEmpty();
  }

  @Test
  void theVolumeHandleNamesTheDiskOnlyAsAWhole() {
    Event ours = kubelet("Warning", "FailedMount", "2026-12-05T10:00:00Z",
        "rpc error: code = FailedPrecondition desc = node n1 has no swap pool (its node plugin runs with --swap-pool 0;"
            + " chart value swap.poolSize): it cannot stage swap volume swap/vms/s");
    Event longer = kubelet("Warning", "FailedMount", "2026-12-05T10:00:10Z",
        "rpc error: code = FailedPrecondition desc = node n1 has no swap pool: it cannot stage swap volume swap/vms/s2");
    assertThat(StageFailures.choose(List.of(ours, longer), PV, HANDLE)).hasValueSatisfying(m -> {
      assertThat(m).endsWith("swap volume swap/vms/s");
      assertThat(StageFailures.reason(m)).isEqualTo("NoSwapPool");
    });
  }

  @Test
  void theEventTimeCountsWhenLastTimestampIsAbsent() {
    Event old = kubelet("Normal", "SuccessfulMountVolume", "2026-12-05T10:00:00Z", "MapVolume.MapPodDevice succeeded for"
        + " volume \"" + PV + "\"");
    Event newer = new EventBuilder().withNewMetadata().withName("e").endMetadata().withType("Warning")
        .withReason("FailedMapVolume").withEventTime(new MicroTime("2026-12-05T10:00:03.123456Z"))
        .withMessage(failedMap(PV, "PoolExhausted: swap disk swap/vms/s needs 1073741824 bytes")).build();
    assertThat(StageFailures.choose(List.of(old, newer), PV, HANDLE)).hasValueSatisfying(m -> {
      assertThat(m).startsWith("PoolExhausted:");
      assertThat(StageFailures.reason(m)).isEqualTo("PoolExhausted");
    });
  }

  @Test
  void theSentenceIsTheGrpcDescriptionCutToASaneLength() {
    assertThat(StageFailures.nodeSentence("no grpc here ")).isEqualTo("no grpc here");
    String huge = StageFailures.nodeSentence("rpc error: code = Internal desc = " + "x".repeat(5000));
    assertThat(huge).hasSize(StageFailures.MAX_SENTENCE).endsWith("…");
    assertThat(StageFailures.reason("something else broke")).isEqualTo("StageFailed");
  }
}
