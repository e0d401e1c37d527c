package dev.remap.csi;

import dev.remap.csi.http.HttpAddress;
import dev.remap.engine.core.Sizes;
import dev.remap.engine.volume.VolumeOptions;
import io.fabric8.kubernetes.api.model.Quantity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything the driver is started with; built by the command line, read by {@link CsiDriver}.
 *
 * @param mode which CSI services this process offers (Identity always)
 * @param socket the Unix socket the gRPC server listens on
 * @param nodeId this node's name: NodeGetInfo's node id and the topology value of node-local volumes
 * @param store the store URI volumes live in (file:///path or s3://bucket/prefix?...)
 * @param journalDir where served volumes keep their write journals (node-local)
 * @param stateDir where the node plugin keeps what it staged, its NBD sockets and FUSE mounts
 * @param kubeconfig the API server to read PVC annotations from; null: $KUBECONFIG, in-cluster or none
 * @param gcInterval how often the controller collects the store's garbage; zero: never
 * @param gcGrace how old an unreferenced object must be to be collected
 * @param cleaning how the volumes this process serves are cleaned, and how often this process
 *     collects the store's garbage besides the controller's {@code gcInterval} (the node's
 *     --cleaning, --space-target, ..., --collect-every, --collect-grace)
 * @param registrationDir the kubelet's plugin registry folder as mounted here, where the node plugin
 *     registers itself (registration/KubeletRegistration); null: no registration
 * @param kubeletEndpoint the CSI socket's path as the kubelet sees it on the host; null: {@code socket}
 * @param http where /healthz and /metrics listen; null: nowhere
 * @param helperKeeper the socket of the helper keeper that starts the devices' helpers; null: this
 *     process starts them as its children
 * @param swapPool bytes of this node's memory that the swap disks of swap volumes may hold, all
 *     together (--swap-pool); 0: the node stages no swap volumes
 * @param shareCache bytes of local disk (in the state folder) that the node's one read cache of
 *     share disks may hold (--share-cache); 0: every share disk reads the store itself
 */
public record DriverConfig(Mode mode, Path socket, String nodeId, String store, Path journalDir, Path stateDir,
    Path kubeconfig, Duration gcInterval, Duration gcGrace, VolumeOptions.Cleaning cleaning, Path registrationDir,
    Path kubeletEndpoint, HttpAddress http, Path helperKeeper, long swapPool, long shareCache) {

  /** The driver name: GetPluginInfo's name, the provisioner of the StorageClass. */
  public static final String DRIVER_NAME = "csi.remap.dev";

  /** The topology key of node-local volumes (a file store lives on one node). */
  public static final String TOPOLOGY_NODE_KEY = "topology.remap.dev/node";

  /** Which services one process offers: a Deployment runs the controller, a DaemonSet the node. */
  public enum Mode {
    CONTROLLER, NODE, ALL;

    public boolean controller() {
      return this != NODE;
    }

    public boolean node() {
      return this != CONTROLLER;
    }
  }

  public DriverConfig {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(socket, "socket");
    Objects.requireNonNull(journalDir, "journalDir");
    Objects.requireNonNull(stateDir, "stateDir");
    if (nodeId == null || nodeId.isBlank()) {
      throw new IllegalArgumentException("--node-id is required: the name of this node (e.g. the Kubernetes node name)");
    }
    if (nodeId.length() > 128) {
      throw new IllegalArgumentException("--node-id '" + nodeId + "' is longer than CSI's 128 bytes");
    }
    if (!nodeId.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new IllegalArgumentException("--node-id '" + nodeId + "' is invalid: use letters, digits, '.', '_' and "
          + "'-', starting with a letter or digit (a Kubernetes node name is)");
    }
    if (store == null || store.isBlank()) {
      throw new IllegalArgumentException("--store is required: file:///path or s3://bucket/prefix");
    }
    Objects.requireNonNull(gcInterval, "gcInterval");
    Objects.requireNonNull(gcGrace, "gcGrace");
    if (gcInterval.isNegative() || gcGrace.isNegative()) {
      throw new IllegalArgumentException("--gc-interval and --gc-grace must not be negative");
    }
    Objects.requireNonNull(cleaning, "cleaning");
    if (registrationDir != null && !mode.node()) {
      throw new IllegalArgumentException("--kubelet-registration-dir registers the node plugin: it needs --mode node "
          + "or all, not " + mode.name().toLowerCase(java.util.Locale.ROOT));
    }
    if (helperKeeper != null && !mode.node()) {
      throw new IllegalArgumentException("--helper-keeper is where the node plugin starts its device helpers: it needs "
          + "--mode node or all, not " + mode.name().toLowerCase(java.util.Locale.ROOT));
    }
    if (swapPool < 0 || (swapPool > 0 && swapPool < 4096)) {
      throw new IllegalArgumentException("--swap-pool " + swapPool + " is neither 0 (no swap volumes) nor a size of at"
          + " least one 4096-byte page");
    }
    if (swapPool > 0 && !mode.node()) {
      throw new IllegalArgumentException("--swap-pool is the memory of the node plugin's swap disks: it needs --mode"
          + " node or all, not " + mode.name().toLowerCase(java.util.Locale.ROOT));
    }
    if (shareCache < 0) {
      throw new IllegalArgumentException("--share-cache " + shareCache + " is neither 0 (no cache of share disks)"
          + " nor a size");
    }
    if (kubeletEndpoint != null && registrationDir == null) {
      throw new IllegalArgumentException("--kubelet-csi-endpoint is what the kubelet is told at registration: "
          + "give --kubelet-registration-dir too");
    }
  }

  /** The driver without a read cache of share disks (tests, tools). */
  public DriverConfig(Mode mode, Path socket, String nodeId, String store, Path journalDir, Path stateDir,
      Path kubeconfig, Duration gcInterval, Duration gcGrace, VolumeOptions.Cleaning cleaning, Path registrationDir,
      Path kubeletEndpoint, HttpAddress http, Path helperKeeper, long swapPool) {
    this(mode, socket, nodeId, store, journalDir, stateDir, kubeconfig, gcInterval, gcGrace, cleaning,
        registrationDir, kubeletEndpoint, http, helperKeeper, swapPool, 0);
  }

  /** The driver without a swap pool (tests, tools). */
  public DriverConfig(Mode mode, Path socket, String nodeId, String store, Path journalDir, Path stateDir,
      Path kubeconfig, Duration gcInterval, Duration gcGrace, VolumeOptions.Cleaning cleaning, Path registrationDir,
      Path kubeletEndpoint, HttpAddress http, Path helperKeeper) {
    this(mode, socket, nodeId, store, journalDir, stateDir, kubeconfig, gcInterval, gcGrace, cleaning,
        registrationDir, kubeletEndpoint, http, helperKeeper, 0);
  }

  /** The driver with the default cleaning, without the kubelet registration and the HTTP endpoint (tests, tools). */
  public DriverConfig(Mode mode, Path socket, String nodeId, String store, Path journalDir, Path stateDir,
      Path kubeconfig, Duration gcInterval, Duration gcGrace) {
    this(mode, socket, nodeId, store, journalDir, stateDir, kubeconfig, gcInterval, gcGrace,
        VolumeOptions.Cleaning.defaults(), null, null, null, null, 0, 0);
  }

  /**
   * A --swap-pool value: a size as the other flags write it ({@code 1G}, {@code 512M}, bytes;
   * powers of 1024, as {@code remap serve --swap-pool}) or else a Kubernetes quantity, as the
   * chart's {@code swap.poolSize} is ({@code 1Gi}, {@code 1.5Gi}). Where the two readings differ
   * ({@code 1G}) this one is the larger, so the operator, which reads the chart value as a
   * quantity, never admits a swap the node then refuses.
   */
  public static long swapPoolOf(String text) {
    return sizeOf("--swap-pool", text);
  }

  /** A --share-cache value: a size or a Kubernetes quantity, read as {@link #swapPoolOf} reads --swap-pool. */
  public static long shareCacheOf(String text) {
    return sizeOf("--share-cache", text);
  }

  private static long sizeOf(String flag, String text) {
    try {
      return Sizes.parse(text);
    } catch (IllegalArgumentException notASize) {
      try {
        return Quantity.getAmountInBytes(new Quantity(text)).toBigIntegerExact().longValueExact();
      } catch (RuntimeException notAQuantity) {
        throw new IllegalArgumentException(flag + ": '" + text + "' is not a size: write bytes, 512M, 1G or a"
            + " Kubernetes quantity such as 1Gi");
      }
    }
  }

  /** The path of the CSI socket as the kubelet reaches it: what registration tells the kubelet. */
  public Path kubeletCsiEndpoint() {
    return kubeletEndpoint != null ? kubeletEndpoint : socket;
  }

  /**
   * The socket path of a CSI endpoint: {@code unix:///csi/csi.sock}, {@code unix:/csi/csi.sock}
   * or a plain absolute path. Anything else (tcp://...) is refused: CSI plugins listen on a Unix
   * socket that only the node's kubelet and sidecars can reach.
   */
  public static Path socketOf(String endpoint) {
    return socketOf("--endpoint", endpoint);
  }

  /** The same rule for another flag that names a Unix socket, named in the errors. */
  public static Path socketOf(String flag, String endpoint) {
    if (endpoint == null || endpoint.isBlank()) {
      throw new IllegalArgumentException(flag + " is required: unix:///path/to/csi.sock");
    }
    String path;
    if (endpoint.startsWith("unix://")) {
      path = endpoint.substring("unix://".length());
    } else if (endpoint.startsWith("unix:")) {
      path = endpoint.substring("unix:".length());
    } else if (endpoint.startsWith("/")) {
      path = endpoint;
    } else {
      throw new IllegalArgumentException(flag + " '" + endpoint + "' is not a Unix socket: write unix:///path/to/csi.sock");
    }
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException(flag + " '" + endpoint + "' needs an absolute path: write unix:///path/to/csi.sock");
    }
    return Path.of(path).normalize();
  }
}
