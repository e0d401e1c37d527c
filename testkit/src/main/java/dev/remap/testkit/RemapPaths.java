package dev.remap.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the project and the real parts installed by e2e/tools/install.sh live. A missing part is
 * a failure with the command that installs it, never a silently skipped test.
 */
public final class RemapPaths {

  private RemapPaths() {}

  /** The repository root: the remap.root system property (set by the build), else found upward. */
  public static Path root() {
    String property = System.getProperty("remap.root");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("e2e/tools/install.sh"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "cannot find the Remap repository root: set -Dremap.root or run from inside the repository");
  }

  /** The cache folder the install script fills: $REMAP_CACHE, else $XDG_CACHE_HOME/remap, else ~/.cache/remap. */
  public static Path cache() {
    String explicit = System.getenv("REMAP_CACHE");
    if (explicit != null && !explicit.isBlank()) {
      return Path.of(explicit);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("remap");
  }

  /** A tool built into the cache's bin folder (kube-apiserver, etcd, csi-sanity, helm, ...). */
  public static Path cachedTool(String name) {
    return requireExecutable(cache().resolve("bin").resolve(name));
  }

  /** A script of the repository, e.g. "e2e/tools/controlplane.sh". */
  public static Path script(String relative) {
    return requireExecutable(root().resolve(relative));
  }

  /** A command from $PATH (a Debian package the install script installs). */
  public static Path command(String name) {
    String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
        return Path.of(dir, name);
      }
    }
    throw new IllegalStateException(
        "'" + name + "' is not installed: run e2e/tools/install.sh (make test does) first");
  }

  private static Path requireExecutable(Path path) {
    if (!Files.isExecutable(path)) {
      throw new IllegalStateException(
          path + " is missing or not executable: run e2e/tools/install.sh (make test does) first");
    }
    return path;
  }
}
