package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * csi-sanity (the CSI conformance suite) against `./remap csi --mode all`, with staging and target
 * paths in a temporary folder: once with filesystem volumes, once with block volumes. Nothing is
 * skipped with -ginkgo.skip; the specs csi-sanity skips itself are those of capabilities Remap does
 * not claim, and the test fails if any other reason for a skip shows up (docs/CSI.md lists them).
 */
class CsiSanityTest {

  /** Why csi-sanity may skip a spec: a capability Remap does not advertise (see docs/CSI.md). */
  private static final Set<String> EXPECTED_SKIPS = Set.of(
      "Controller Publish, UnpublishVolume not supported",
      "ControllerPublishVolume not supported",
      "ControllerUnpublishVolume not supported",
      "ControllerGetVolumeHealth not supported",
      "ControllerListVolumeHealth not supported",
      "ControllerModifyVolume not supported",
      "Modify Volume not supported",
      "Modify volume not supported",
      "GetSnapshot not supported",
      "GroupControllerService not supported",
      "NodeGetStorageHealth not supported",
      "NodeGetVolumeHealth not supported",
      "SNAPSHOT_ACCESSIBILITY_CONSTRAINTS not supported");

  private static final Pattern SUMMARY =
      Pattern.compile("SUCCESS! -- (\\d+) Passed \\| 0 Failed \\| (\\d+) Pending \\| (\\d+) Skipped");
  private static final Pattern SKIP = Pattern.compile("\\[SKIPPED\\] ([A-Z][^\\n]*)");

  @Test
  void passesWithFilesystemVolumes(@TempDir Path dir) throws IOException {
    sanity(dir, "mount");
  }

  @Test
  void passesWithBlockVolumes(@TempDir Path dir) throws IOException {
    sanity(dir, "block");
  }

  private static void sanity(Path dir, String accessType) throws IOException {
    Files.createDirectories(dir.resolve("store"));
    Files.createDirectories(dir.resolve("sanity")); // csi-sanity makes its two folders, not their parent
    try (CsiClient csi = CsiClient.start(dir)) {
      Proc.Result result = Proc.run(Duration.ofMinutes(8), RemapPaths.cachedTool("csi-sanity").toString(),
          "-csi.endpoint", "unix://" + csi.socket,
          "-csi.mountdir", dir.resolve("sanity/target").toString(),
          "-csi.stagingdir", dir.resolve("sanity/staging").toString(),
          "-csi.testvolumeaccesstype", accessType,
          "-csi.testvolumesize", Long.toString(1L << 30),
          "-ginkgo.no-color", "-ginkgo.vv");
      String output = result.output();
      assertThat(result.exitCode()).as("csi-sanity failed:\n%s\ndriver:\n%s",
          tail(output), tail(csi.driver.output())).isZero();
      Matcher summary = SUMMARY.matcher(output);
      assertThat(summary.find()).as("no success line in:\n%s", tail(output)).isTrue();
      assertThat(Integer.parseInt(summary.group(1))).isGreaterThanOrEqualTo(68);
      Set<String> reasons = new TreeSet<>();
      Matcher skip = SKIP.matcher(output);
      while (skip.find()) {
        reasons.add(skip.group(1).strip());
      }
      assertThat(EXPECTED_SKIPS).containsAll(reasons);
    }
    String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
    assertThat(mounts).as("mounts left behind").doesNotContain(dir.toString());
  }

  private static String tail(String text) {
    return text.length() <= 6000 ? text : text.substring(text.length() - 6000);
  }
}
