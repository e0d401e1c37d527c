package dev.remap.csi.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.swap.SwapSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The volume attributes the operator writes for a VmMemorySwap (the contract of issue 16) read
 * into the engine's swap spec; every mistake INVALID_ARGUMENT naming the attribute; the spec kept
 * in the staged record, under a file name an id with '/' can have.
 */
class SwapAttributesTest {

  private static final String ID = "swap/vms/web";

  private static Map<String, String> full() {
    Map<String, String> context = new HashMap<>();
    context.put("remap.dev/kind", "swap");
    context.put("remap.dev/swap-size", Long.toString(64L << 20));
    context.put("remap.dev/swap-memory-limit", Long.toString(16L << 20));
    context.put("remap.dev/swap-spill-size", Long.toString(64L << 20));
    context.put("remap.dev/swap-spill-location", "/var/lib/remap/spill");
    context.put("remap.dev/swap-discard", "true");
    context.put("remap.dev/swap-label", "vmswap");
    return context;
  }

  @Test
  void everyAttributeOfTheContractReachesTheSpec() {
    assertThat(SwapAttributes.fromContext(ID, full())).contains(new SwapSpec(ID, 64L << 20, 16L << 20,
        Optional.of(new SwapSpec.Spill(Path.of("/var/lib/remap/spill"), 64L << 20)), true, Optional.of("vmswap")));
  }

  @Test
  void spillAndLabelAreOptional() {
    Map<String, String> context = full();
    context.remove("remap.dev/swap-spill-size");
    context.remove("remap.dev/swap-spill-location");
    context.remove("remap.dev/swap-label");
    context.put("remap.dev/swap-memory-limit", Long.toString(64L << 20));
    context.put("remap.dev/swap-discard", "false");
    assertThat(SwapAttributes.fromContext(ID, context))
        .contains(new SwapSpec(ID, 64L << 20, 64L << 20, Optional.empty(), false, Optional.empty()));
  }

  @Test
  void aVolumeOfTheStoreHasNoKind() {
    assertThat(SwapAttributes.fromContext("pvc-1", Map.of("ramCacheSize", "0"))).isEmpty();
  }

  @Test
  void eachBadAttributeIsNamed() {
    assertInvalid(with("remap.dev/kind", "memory"), "volume_context.remap.dev/kind: 'memory'");
    assertInvalid(with("remap.dev/swap-size", null), "volume_context.remap.dev/swap-size is missing");
    assertInvalid(with("remap.dev/swap-size", "64Mi"), "volume_context.remap.dev/swap-size: '64Mi' is not");
    assertInvalid(with("remap.dev/swap-size", "1000"), "remap.dev/swap-size: 1000 is not a multiple of the 4096");
    assertInvalid(with("remap.dev/swap-memory-limit", "-4096"), "volume_context.remap.dev/swap-memory-limit");
    assertInvalid(with("remap.dev/swap-discard", "yes"), "volume_context.remap.dev/swap-discard: 'yes'");
    assertInvalid(with("remap.dev/swap-spill-location", null), "volume_context.remap.dev/swap-spill-location is "
        + "missing");
    assertInvalid(with("remap.dev/swap-spill-size", null), "volume_context.remap.dev/swap-spill-size is missing");
    assertInvalid(with("remap.dev/swap-spill-location", "spill"), "remap.dev/swap-spill-location (spill.location)");
    assertInvalid(with("remap.dev/swap-label", "a-label-of-17-byt"), "remap.dev/swap-label");
    Map<String, String> noSpill = with("remap.dev/swap-spill-location", null);
    noSpill.remove("remap.dev/swap-spill-size");
    // Larger than its memory limit and nowhere to spill: the engine's sentence, in the attributes' names.
    assertInvalid(noSpill, "than its remap.dev/swap-memory-limit");
  }

  @Test
  void theSpecIsKeptInTheStagedRecordUnderAFileNameOfItsOwn(@TempDir Path dir) throws IOException {
    SwapSpec spec = SwapAttributes.fromContext(ID, full()).orElseThrow();
    StagedVolume staged = new StagedVolume(ID, Path.of("/staging/swap"), true, "", false, "SINGLE_NODE_WRITER",
        new LoopAttacher.Attachment("/dev/loop9", dir.resolve("devices/x"), 77), Map.of(), CacheSizes.NONE,
        Optional.of(spec)).withTarget(Path.of("/pods/vm/swap"), false);
    NodeState.load(dir).put(staged);
    assertThat(NodeState.fileName(ID)).doesNotContain("/").startsWith("~").hasSize(33);
    assertThat(NodeState.fileName("pvc-1")).isEqualTo("pvc-1");
    assertThat(dir.resolve("staged/" + NodeState.fileName(ID) + ".properties")).isRegularFile();
    StagedVolume reloaded = NodeState.load(dir).get(ID).orElseThrow();
    assertThat(reloaded).isEqualTo(staged);
    assertThat(reloaded.withoutTarget(Path.of("/pods/vm/swap")).swap()).contains(spec);
    assertThat(NodeStartup.load(dir).swapDisks()).containsExactly(spec);
    assertThat(NodeStartup.load(dir).cacheSizes()).as("a swap disk has no cache tiers").isEmpty();
    NodeState.load(dir).remove(ID);
    assertThat(NodeState.load(dir).all()).isEmpty();
  }

  private static Map<String, String> with(String key, String value) {
    Map<String, String> context = full();
    if (value == null) {
      context.remove(key);
    } else {
      context.put(key, value);
    }
    return context;
  }

  private static void assertInvalid(Map<String, String> context, String message) {
    assertThatThrownBy(() -> SwapAttributes.fromContext(ID, context))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
        .hasMessageContaining(message);
  }
}
