package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.TestGuest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A VM of a share booted in the QEMU test guest: its share disks are virtio disks that QEMU's NBD
 * client reads from {@code remap serve}, as KubeVirt's launcher would attach them. The script
 * gets a prelude: {@code set -e}; {@code LABEL NAME DEVICE} for each of the test's labels found
 * (busybox's findfs: the guest has no blkid); and {@code list TAG DIR}, which prints each file
 * under DIR as {@code FILE TAG SHA256 HEXNAME}.
 * Names travel hex-encoded because the serial console is not a channel to trust with UTF-8.
 */
final class ShareGuest {

  /** The least RAM the guest boots with, plus a little (SwapGuestTest measured it). */
  static final int MEMORY_MB = 96;
  static final Duration TIMEOUT = Duration.ofMinutes(3);

  private static final String PRELUDE = """
      set -e
      list() {
        (cd "$2" && find . -type f | while IFS= read -r f; do
          echo "FILE $1 $(sha256sum "$f" | cut -c1-64) $(printf '%s' "${f#./}" | od -An -v -tx1 | tr -d ' \\n')"
        done)
      }
      mkdir -p /mnt/photos /mnt/texts
      for l in Photos Texts PHOTOS TEXTS; do d=$(findfs LABEL=$l 2>/dev/null) && echo "LABEL $l $d" || true; done
      """;

  /**
   * Appended to every script: the kernel's messages about the filesystems (the guest boots with
   * {@code quiet}, so its warnings do not reach the console by themselves).
   */
  private static final String EPILOGUE = "dmesg | grep -E 'EXT4-fs|FAT-fs' | sed 's/^/KMSG /' || true\n";

  private static final Pattern FILE = Pattern.compile("(?m)^FILE (\\S+) ([0-9a-f]{64}) ([0-9a-f]*)\\r?$");
  private static final Pattern LABEL = Pattern.compile("(?m)^LABEL (\\S+) /dev/vd[a-z]+");

  private ShareGuest() {}

  /** What the guest's console showed, and how long the boot took. */
  record Result(String console, long seconds) {

    /** The files list printed under tag: name to SHA-256. */
    Map<String, String> files(String tag) {
      Map<String, String> out = new TreeMap<>();
      Matcher m = FILE.matcher(console);
      while (m.find()) {
        if (m.group(1).equals(tag)) {
          out.put(new String(HexFormat.of().parseHex(m.group(3)), StandardCharsets.UTF_8), m.group(2));
        }
      }
      return out;
    }

    /** The share labels found on the guest's disks (those the prelude looks for). */
    Set<String> labels() {
      Set<String> out = new TreeSet<>();
      Matcher m = LABEL.matcher(console);
      while (m.find()) {
        out.add(m.group(1));
      }
      return out;
    }

    /** What the guest kernel said about its filesystems. */
    List<String> kernelMessages() {
      return console.lines().filter(l -> l.startsWith("KMSG ")).map(l -> l.substring(5).strip()).toList();
    }

    /** The hex word printed after key (e.g. "WROTE" and a SHA-256). */
    String value(String key) {
      Matcher m = Pattern.compile("(?m)^" + key + " ([0-9a-f]+)").matcher(console);
      assertThat(m.find()).as(key + " in the console:\n" + console).isTrue();
      return m.group(1);
    }
  }

  /**
   * Boots a guest with volumes (in this order: /dev/vda, /dev/vdb, ...) served on socket, runs
   * script after the prelude; fails with the console unless the script exits 0.
   */
  static Result boot(Path socket, List<String> volumes, String script) {
    List<String> args = new ArrayList<>();
    for (String volume : volumes) {
      args.add("-drive");
      args.add("file=nbd+unix:///" + volume + "?socket=" + socket + ",format=raw,if=virtio");
    }
    long start = System.nanoTime();
    TestGuest.Run run = new TestGuest().withMemoryMb(MEMORY_MB).withTimeout(TIMEOUT)
        .withQemuArgs(args.toArray(String[]::new)).run(PRELUDE + script + EPILOGUE);
    assertThat(run.exitCode()).as(run.console()).isZero();
    Result result = new Result(run.console(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
    // A disk the guest kernel finds damaged or dirty is a failure even when the files read back.
    assertThat(result.kernelMessages()).as(run.console())
        .noneMatch(m -> m.contains("error") || m.contains("corrupt") || m.contains("not properly unmounted"));
    return result;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
