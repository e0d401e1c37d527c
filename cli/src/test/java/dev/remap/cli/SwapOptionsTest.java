package dev.remap.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.swap.PoolExhaustedException;
import dev.remap.engine.swap.SwapExports;
import dev.remap.engine.swap.SwapSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The swap flags of {@code remap serve}: a --swap value becomes the spec it says, a mistake is a
 * sentence naming the flag, the disk and the key, and what only making the disk can tell (the
 * pool's cap, the spill directory) stops the start with the engine's reason.
 */
class SwapOptionsTest {

  @TempDir Path tmp;

  private static SwapOptions options(String... args) {
    return CommandLine.populateCommand(new SwapOptions(), args);
  }

  private static List<SwapSpec> specs(String... args) {
    return options(args).specs();
  }

  @Test
  void noFlagsServeNoSwap() throws Exception {
    SwapOptions none = options();
    assertThat(none.poolBytes()).isZero();
    assertThat(none.specs()).isEmpty();
    assertThat(none.open()).isEmpty();
  }

  @Test
  void aSwapValueBecomesItsSpec() {
    List<SwapSpec> specs = specs("--swap-pool", "1G",
        "--swap", "vm1-swap:size=256M,memory-limit=64M,spill-dir=" + tmp + ",spill-size=192M,label=VM1SWAP",
        "--swap=vm2-swap:memory-limit=16M,size=16M,discard=false");
    assertThat(specs).containsExactly(
        new SwapSpec("vm1-swap", 256L << 20, 64L << 20, Optional.of(new SwapSpec.Spill(tmp, 192L << 20)), true,
            Optional.of("VM1SWAP")),
        new SwapSpec("vm2-swap", 16L << 20, 16L << 20, Optional.empty(), false, Optional.empty()));
  }

  @Test
  void mistakesAreRefusedNamingTheFlagTheDiskAndTheKey() {
    String pool = "--swap-pool=1G";
    assertThatThrownBy(() -> specs(pool, "--swap", "size=1M,memory-limit=1M"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--swap needs NAME:size=SIZE");
    assertThatThrownBy(() -> specs(pool, "--swap", ":size=1M,memory-limit=1M"))
        .hasMessageStartingWith("--swap needs NAME:");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M,memory-limit=1M,colour=red"))
        .hasMessage("--swap s: unknown key 'colour' (keys: size, memory-limit, spill-dir, spill-size, label, discard)");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M,memory-limit=1M,"))
        .hasMessageStartingWith("--swap s: '' is not KEY=VALUE");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M"))
        .hasMessage("--swap s: memory-limit=SIZE is missing");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:memory-limit=1M"))
        .hasMessage("--swap s: size=SIZE is missing");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M,memory-limit=1M,size=2M"))
        .hasMessage("--swap s: size is given twice");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=lots,memory-limit=1M"))
        .hasMessageStartingWith("--swap s: size: 'lots' is not a size");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M,memory-limit=1M,spill-dir=" + tmp))
        .hasMessageStartingWith("--swap s: spill-dir needs spill-size=SIZE");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M,memory-limit=1M,spill-size=1M"))
        .hasMessageStartingWith("--swap s: spill-size needs spill-dir=DIR");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M,memory-limit=1M,discard=yes"))
        .hasMessage("--swap s: discard is true or false, not 'yes'");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M,memory-limit=1M", "--swap", "s:size=2M,memory-limit=2M"))
        .hasMessageStartingWith("--swap s is given twice");
  }

  /** The engine's checks come through with the flag's words for its fields. */
  @Test
  void theEnginesChecksSpeakTheFlagsKeys() {
    String pool = "--swap-pool=1G";
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1000,memory-limit=1M"))
        .hasMessageStartingWith("--swap s: size of swap disk s must be a positive multiple of 4096");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M,memory-limit=100"))
        .hasMessageStartingWith("--swap s: memory-limit of swap disk s must hold at least one 4096-byte page");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=2M,memory-limit=1M"))
        .hasMessageContaining("--swap s: swap disk s is larger").hasMessageContaining("memory-limit (1048576)");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=2M,memory-limit=1M,spill-dir=" + tmp + ",spill-size=1"))
        .hasMessageStartingWith("--swap s: spill-size must hold at least one 4096-byte page");
    assertThatThrownBy(() -> specs(pool, "--swap", "s:size=1M,memory-limit=1M,label=ABCDEFGHIJKLMNOPQ"))
        .hasMessageStartingWith("--swap s: the swap label of s must be 1 to 16 bytes");
  }

  @Test
  void aSwapDiskNeedsAPool() {
    assertThatThrownBy(() -> specs("--swap", "s:size=1M,memory-limit=1M"))
        .hasMessage("--swap needs a pool for its pages: give --swap-pool SIZE, at least the sum of the disks'"
            + " memory-limit");
    assertThatThrownBy(() -> options("--swap-pool", "much").poolBytes()).hasMessageStartingWith("--swap-pool: 'much'");
    assertThatThrownBy(() -> options("--swap-pool", "100").open())
        .hasMessageStartingWith("--swap-pool: the swap pool's cap must hold at least one 4096-byte page");
  }

  @Test
  void openMakesEveryDiskInOnePool() throws Exception {
    Optional<SwapExports> opened = options("--swap-pool", "8M", "--swap", "a:size=4M,memory-limit=4M,label=A",
        "--swap", "b:size=8M,memory-limit=2M,spill-dir=" + tmp + ",spill-size=6M").open();
    assertThat(opened).isPresent();
    try (SwapExports swaps = opened.get()) {
      assertThat(swaps.names()).containsExactlyInAnyOrder("a", "b");
      assertThat(swaps.pool().reservedBytes()).isEqualTo(6L << 20);
      assertThat(swaps.find("b").orElseThrow().spec().spill()).isPresent();
    }
    // A pool without disks is allowed: its meters show what it could hold.
    try (SwapExports empty = options("--swap-pool", "1M").open().orElseThrow()) {
      assertThat(empty.names()).isEmpty();
    }
  }

  @Test
  void aDiskThatCannotBeMadeStopsTheStartAndFreesTheOthers() throws Exception {
    SwapOptions tooMuch = options("--swap-pool", "4M", "--swap", "a:size=2M,memory-limit=2M",
        "--swap", "b:size=4M,memory-limit=4M");
    assertThatThrownBy(tooMuch::open).isInstanceOf(PoolExhaustedException.class)
        .hasMessageContaining("swap disk b asks for 4194304 bytes of the swap pool, which holds 4194304 bytes");

    Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
    SwapOptions badSpill = options("--swap-pool", "4M",
        "--swap", "a:size=4M,memory-limit=1M,spill-dir=" + file + ",spill-size=3M");
    assertThatThrownBy(badSpill::open).hasMessageContaining(file.toString())
        .hasMessageContaining("spill.location of swap disk a is not a directory");
  }

  /** Through the whole command: the same sentence on stderr, exit status 1, nothing served. */
  @Test
  void serveRefusesABadSwapBeforeServing() {
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute("serve", "--store=file://" + tmp.resolve("store"), "--journal=" + tmp.resolve("journal"),
        "--socket", tmp.resolve("nbd.sock").toString(), "--swap", "s:size=1M,memory-limit=1M");
    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).contains("remap: --swap needs a pool for its pages: give --swap-pool SIZE");
    assertThat(out.toString()).doesNotContain("serving");
  }
}
