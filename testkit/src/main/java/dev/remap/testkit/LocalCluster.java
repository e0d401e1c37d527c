package dev.remap.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real single-node cluster started by e2e/tools/cluster.sh: the local control plane plus
 * kube-scheduler, a kubelet, kube-proxy, containerd + runc and the CNI bridge. Pods run for real;
 * images come in as archives ({@link #load}). Only one can run on a machine at a time (the node's
 * network, kube-proxy's rules and the kubepods cgroups are machine-wide), so tests share one
 * through a single test class rather than an extension.
 */
public final class LocalCluster implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofMinutes(5);
  private final Path dir;
  private final Path kubeconfig;
  private final Path kubeletDir;
  private final boolean owned;

  private LocalCluster(Path dir, Path kubeconfig, Path kubeletDir, boolean owned) {
    this.dir = dir;
    this.kubeconfig = kubeconfig;
    this.kubeletDir = kubeletDir;
    this.owned = owned;
  }

  /** Starts (or resumes) the cluster whose files live in dir; returns once the node is Ready. */
  public static LocalCluster start(Path dir) {
    Proc.run(START_TIMEOUT, RemapPaths.script("e2e/tools/cluster.sh").toString(), "start", dir.toString())
        .requireSuccess();
    return new LocalCluster(dir, dir.resolve("kubeconfig"), dir.resolve("kubelet"), true);
  }

  /**
   * A cluster someone else runs (e2e/kind.sh: a kind cluster with the images already loaded):
   * the same scenario against its kubeconfig; {@link #load} and {@link #close} do nothing.
   */
  public static LocalCluster existing(Path kubeconfig, Path kubeletDir, Path workDir) {
    return new LocalCluster(workDir, kubeconfig, kubeletDir, false);
  }

  /** Whether this cluster was started here (and so its node's folders are under {@link #dir}). */
  public boolean owned() {
    return owned;
  }

  public Path dir() {
    return dir;
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The kubelet's root directory: what a CSI driver's chart must be told as its kubelet dir. */
  public Path kubeletDir() {
    return kubeletDir;
  }

  /** Imports image archives (OCI or Docker) into the node's container runtime. */
  public void load(Path... archives) {
    if (!owned) {
      return;
    }
    List<String> command = new ArrayList<>(List.of(RemapPaths.script("e2e/tools/cluster.sh").toString(), "load",
        dir.toString()));
    for (Path archive : archives) {
      command.add(archive.toString());
    }
    Proc.run(Duration.ofMinutes(10), Map.of(), command).requireSuccess();
  }

  /** Runs the kubectl built with the cluster against it. */
  public Proc.Result kubectl(String... args) {
    return kubectl(Duration.ofMinutes(2), args);
  }

  public Proc.Result kubectl(Duration timeout, String... args) {
    return tool("kubectl", timeout, args);
  }

  /** Runs the helm built by go-tools.sh against the cluster. */
  public Proc.Result helm(Duration timeout, String... args) {
    return tool("helm", timeout, args);
  }

  private Proc.Result tool(String name, Duration timeout, String... args) {
    List<String> command = new ArrayList<>();
    command.add(RemapPaths.cachedTool(name).toString());
    command.add("--kubeconfig=" + kubeconfig());
    command.addAll(List.of(args));
    return Proc.run(timeout, Map.of(), command);
  }

  @Override
  public void close() {
    if (!owned) {
      return;
    }
    Proc.run(Duration.ofMinutes(2), RemapPaths.script("e2e/tools/cluster.sh").toString(), "stop", dir.toString())
        .requireSuccess();
    // Stopped cleanly: nothing in dir is needed any more (on a failed stop it stays for the logs).
    Proc.run(Duration.ofMinutes(2), "rm", "-rf", dir.toString()).requireSuccess();
  }
}
