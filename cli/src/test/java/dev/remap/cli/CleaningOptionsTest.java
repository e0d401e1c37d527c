package dev.remap.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.volume.VolumeOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The cleaning flags of {@code remap serve} and {@code remap csi}: their defaults are the engine's,
 * and a value that cannot work is refused with the flag's name, before anything is served.
 */
class CleaningOptionsTest {

  private static VolumeOptions.Cleaning parse(String... args) {
    return CommandLine.populateCommand(new CleaningOptions(), args).cleaning();
  }

  @Test
  void noFlagsGiveTheEnginesDefaults() {
    assertThat(parse()).isEqualTo(VolumeOptions.Cleaning.defaults());
    VolumeOptions base = VolumeOptions.defaults(Path.of("/j")).withNode("node-a");
    assertThat(CommandLine.populateCommand(new CleaningOptions()).apply(base)).isEqualTo(base);
  }

  @Test
  void flagsSetTheirPartAndLeaveTheRest() {
    VolumeOptions.Cleaning c = parse("--space-target", "1.5", "--space-busy", "2", "--cleaning-rate", "8M",
        "--collect-every", "0s", "--collect-grace", "1h");
    VolumeOptions.Cleaning d = VolumeOptions.Cleaning.defaults();
    assertThat(c.enabled()).isTrue();
    assertThat(c.policy().targetAmplification()).isEqualTo(1.5);
    assertThat(c.policy().busyAmplification()).isEqualTo(2.0);
    assertThat(c.policy().order()).isEqualTo(d.policy().order());
    assertThat(c.bytesPerSecond()).isEqualTo(8L << 20);
    assertThat(c.collectEvery()).isZero();
    assertThat(c.collectGrace()).isEqualTo(Duration.ofHours(1));
    assertThat(c.interval()).isEqualTo(d.interval());
    assertThat(c.idleAfter()).isEqualTo(d.idleAfter());
  }

  @Test
  void cleaningOffDisablesIt() {
    assertThat(parse("--cleaning", "off")).isEqualTo(VolumeOptions.Cleaning.defaults().off());
    assertThat(parse("--cleaning=on").enabled()).isTrue();
    assertThatThrownBy(() -> parse("--cleaning", "yes")).hasMessageContaining("--cleaning is on or off");
  }

  @Test
  void aBadValueIsRefusedNamingTheFlag() {
    assertThatThrownBy(() -> parse("--space-target", "0.9")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--space-target").hasMessageContaining("at least 1.0");
    assertThatThrownBy(() -> parse("--space-busy", "NaN")).hasMessageStartingWith("--space-busy");
    assertThatThrownBy(() -> parse("--space-target", "2", "--space-busy", "1.5"))
        .hasMessageContaining("--space-busy (1.5) must be at least --space-target (2.0)");
    // Checked even when off: turning it on later must not reveal the mistake.
    assertThatThrownBy(() -> parse("--cleaning", "off", "--space-target", "0.5")).hasMessageStartingWith("--space-target");
    assertThatThrownBy(() -> parse("--cleaning-rate", "fast")).hasMessageStartingWith("--cleaning-rate: 'fast'");
    assertThatThrownBy(() -> parse("--cleaning-rate", "0")).hasMessageStartingWith("--cleaning-rate must be more than 0");
    assertThatThrownBy(() -> parse("--collect-every", "10 minutes"))
        .hasMessageStartingWith("--collect-every: '10 minutes' is not a duration");
    assertThatThrownBy(() -> parse("--collect-grace", "-5m")).hasMessageContaining("--collect-grace");
    // Not a number at all: picocli says so, naming the flag.
    assertThatThrownBy(() -> parse("--space-target", "much")).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--space-target");
  }

  /** The node's own collection flags do not clash with the controller's --gc-interval/--gc-grace. */
  @Test
  void serveAndCsiBothTakeThemBesideTheControllersCollectionFlags() {
    CommandLine cli = Main.commandLine();
    for (String command : new String[] {"serve", "csi"}) {
      CommandSpec spec = cli.getSubcommands().get(command).getCommandSpec();
      for (String flag : new String[] {"--cleaning", "--space-target", "--space-busy", "--cleaning-rate",
          "--collect-every", "--collect-grace"}) {
        assertThat(spec.findOption(flag)).as("%s %s", command, flag).isNotNull();
      }
      assertThat(spec.findOption("--gc-every")).as(command).isNull();
    }
    CommandSpec csi = cli.getSubcommands().get("csi").getCommandSpec();
    assertThat(csi.findOption("--gc-grace").defaultValue()).isEqualTo("1h");
    assertThat(csi.findOption("--collect-grace").defaultValue()).isEqualTo("5m");
  }

  /** `remap csi` with a bad value: one sentence naming the flag, exit status 1, nothing started. */
  @Test
  void theCsiDriverRefusesABadValueBeforeItStarts(@TempDir Path tmp) {
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    int status = cli.execute("csi", "--mode", "node", "--endpoint", "unix://" + tmp.resolve("csi.sock"),
        "--node-id", "node-a", "--store", "file://" + tmp.resolve("store"), "--journal", tmp.resolve("j").toString(),
        "--state-dir", tmp.resolve("state").toString(), "--collect-grace", "5 minutes");
    assertThat(status).as(err.toString()).isEqualTo(1);
    assertThat(err.toString()).startsWith("remap: --collect-grace: '5 minutes' is not a duration");
    assertThat(tmp.resolve("csi.sock")).doesNotExist();
  }
}
