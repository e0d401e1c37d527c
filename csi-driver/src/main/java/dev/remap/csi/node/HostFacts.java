package dev.remap.csi.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * What a node offers for turning an NBD export into a kernel block device. Read once from the
 * running host by {@link #probe()}; everything that decides from these facts is pure
 * ({@link AttachMethod#choose(HostFacts)}) so it can be tested without the host.
 */
public record HostFacts(
    boolean nbdModuleLoaded,
    boolean nbdModuleAvailable,
    boolean nbdClient,
    boolean fuseDevice,
    boolean nbdfuse,
    boolean nbdkit,
    boolean loopControl,
    boolean losetup,
    boolean perl) {

  /** Reads the facts from this host: /sys, /dev, the kernel's module tree and $PATH. */
  public static HostFacts probe() {
    String release = System.getProperty("os.version", "");
    return new HostFacts(
        Files.isDirectory(Path.of("/sys/module/nbd")),
        moduleInTree(Path.of("/lib/modules", release)),
        onPath("nbd-client"),
        Files.exists(Path.of("/dev/fuse")),
        onPath("nbdfuse"),
        onPath("nbdkit"),
        Files.exists(Path.of("/dev/loop-control")),
        onPath("losetup"),
        onPath("perl"));
  }

  private static boolean moduleInTree(Path modules) {
    // modules.dep lists every module of the running kernel, built in or loadable; a module
    // the running kernel does not carry cannot be modprobe'd, whatever the package says.
    Path dep = modules.resolve("modules.dep");
    Path builtin = modules.resolve("modules.builtin");
    return containsModule(dep) || containsModule(builtin);
  }

  private static boolean containsModule(Path list) {
    try (var lines = Files.lines(list)) {
      return lines.anyMatch(l -> l.contains("/block/nbd.ko"));
    } catch (Exception e) {
      return false;
    }
  }

  static boolean onPath(String command) {
    String path = Objects.requireNonNullElse(System.getenv("PATH"), "/usr/sbin:/usr/bin:/sbin:/bin");
    return Arrays.stream(path.split(":"))
        .filter(d -> !d.isEmpty())
        .anyMatch(d -> Files.isExecutable(Path.of(d, command)));
  }
}
