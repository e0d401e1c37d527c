package dev.remap.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.share.CloudSync;
import dev.remap.engine.share.ImageFormat;
import dev.remap.engine.share.ShareAgent;
import dev.remap.engine.share.ShareSplit;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The flags of {@code remap share-agent}: each becomes the agent's setting, each mistake names its flag. */
class ShareAgentCommandTest {

  private static ShareAgent.Config config(String... args) {
    String[] all = new String[args.length + 4];
    all[0] = "--store=file:///tmp/x";
    all[1] = "--share-id=ns.share";
    all[2] = "--bucket=photos";
    all[3] = "--vm=vm-a=photos,texts";
    System.arraycopy(args, 0, all, 4, args.length);
    return CommandLine.populateCommand(new ShareAgentCommand(), all).config();
  }

  @Test
  void flagsBecomeTheAgentsSettings() {
    ShareAgent.Config config = config("--split=byDataType", "--data-type=photos=jpg,png", "--data-type=texts=txt",
        "--others=", "--filesystem=vfat", "--free-space=512M", "--direction=push", "--conflicts=vmWins",
        "--interval=1m30s", "--vm=vm-b=texts");
    assertThat(config.rule()).isEqualTo(new ShareSplit.Rule(ShareSplit.Mode.BY_DATA_TYPE,
        Map.of("photos", List.of("jpg", "png"), "texts", List.of("txt")), null));
    assertThat(config.rule().dataTypes().keySet()).containsExactly("photos", "texts");
    assertThat(config.format()).isEqualTo(ImageFormat.VFAT);
    assertThat(config.freeSpace()).isEqualTo(512L << 20);
    assertThat(config.direction()).isEqualTo(ShareAgent.Direction.PUSH);
    assertThat(config.policy()).isEqualTo(CloudSync.Policy.VM_WINS);
    assertThat(config.interval()).isEqualTo(Duration.ofSeconds(90));
    assertThat(config.assignments()).containsExactly(new ShareAgent.Assignment("vm-a", "photos"),
        new ShareAgent.Assignment("vm-a", "texts"), new ShareAgent.Assignment("vm-b", "texts"));
  }

  @Test
  void defaultsAreTheApisDefaults() {
    ShareAgent.Config config = config();
    assertThat(config.rule()).isEqualTo(new ShareSplit.Rule(ShareSplit.Mode.SINGLE, Map.of(), "other"));
    assertThat(config.format()).isEqualTo(ImageFormat.EXT4);
    assertThat(config.direction()).isEqualTo(ShareAgent.Direction.BOTH);
    assertThat(config.policy()).isEqualTo(CloudSync.Policy.KEEP_BOTH);
    assertThat(config.interval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.readOnly()).isFalse();
  }

  @Test
  void mistakesNameTheirFlag() {
    assertThatThrownBy(() -> config("--split=byColour")).hasMessageStartingWith("--split: 'byColour'");
    assertThatThrownBy(() -> config("--split=byDataType")).hasMessageContaining("--data-type is given when");
    assertThatThrownBy(() -> config("--data-type=photos")).hasMessageStartingWith("--data-type: 'photos'");
    assertThatThrownBy(() -> config("--filesystem=ntfs")).hasMessageStartingWith("--filesystem: 'ntfs'");
    assertThatThrownBy(() -> config("--interval=soon")).hasMessageStartingWith("--interval: 'soon' is not a duration");
    assertThatThrownBy(() -> config("--read-only")).hasMessageContaining("--read-only needs --direction pull");
    assertThatThrownBy(() -> config("--vm=vm-b")).hasMessageStartingWith("--vm: 'vm-b'");
    assertThatThrownBy(() -> config("--free-space=lots")).hasMessageStartingWith("--free-space:");
    assertThat(GoDuration.parse("--x", "500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(GoDuration.parse("--x", "1.5h")).isEqualTo(Duration.ofMinutes(90));
  }
}
