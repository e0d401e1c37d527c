package dev.remap.cli;

import dev.remap.csi.http.HttpAddress;
import dev.remap.csi.http.HttpEndpoint;
import dev.remap.engine.cache.DiskCache;
import dev.remap.engine.core.Sizes;
import dev.remap.engine.metrics.EngineMetrics;
import dev.remap.engine.export.ExportSource;
import dev.remap.engine.export.ExportSources;
import dev.remap.engine.export.StackSpec;
import dev.remap.engine.export.VolumeExports;
import dev.remap.engine.metrics.SwapMeters;
import dev.remap.engine.nbd.NbdServer;
import dev.remap.engine.nbd.TlsFiles;
import dev.remap.engine.swap.SwapExports;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** ./remap serve: every volume of a store, and the node's swap disks, as NBD exports. Wiring only. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Serve every volume of the store over NBD: a volume as the export of its name",
        "(read-write), a snapshot as VOLUME@SNAPSHOT (read-only). Volumes created, cloned or",
        "deleted meanwhile appear and disappear without a restart. SIGTERM finishes the requests",
        "in flight and closes the volumes (their journals synced).",
        "Beside them, the swap disks of --swap, each the export of its NAME: a VM's swap",
        "whose pages live in this node's memory (--swap-pool) and a local spill file,",
        "not in the store. They are made at start, empty or formatted with their label,",
        "and are gone when the process ends."})
final class ServeCommand implements Callable<Integer> {

  private static final int DISK_CACHE_BLOCK = 256 << 10;

  @Spec CommandSpec spec;
  @Mixin StoreOptions store;
  @Mixin CleaningOptions cleaning;
  @Mixin SwapOptions swap;

  @Option(names = "--socket", paramLabel = "PATH", description = "Unix socket to listen on")
  Path socket;

  @Option(names = "--listen", paramLabel = "HOST:PORT",
      description = "Also listen on TCP; a non-loopback address needs --tls-cert/--tls-key (or --allow-plain-tcp)")
  String listen;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain: TCP clients must use TLS")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM PKCS#8 private key of --tls-cert")
  Path tlsKey;

  @Option(names = "--allow-plain-tcp", description = "Allow unencrypted TCP on a non-loopback address")
  boolean allowPlainTcp;

  @Option(names = "--cache-ram", paramLabel = "SIZE", defaultValue = "256M",
      description = "RAM cache per served export, 0 for none (default ${DEFAULT-VALUE})")
  String cacheRam;

  @Option(names = "--cache-dir", paramLabel = "DIR", description = "Local-disk cache of store objects")
  Path cacheDir;

  @Option(names = "--cache-disk", paramLabel = "SIZE", defaultValue = "10G",
      description = "Size of the disk cache in --cache-dir (default ${DEFAULT-VALUE})")
  String cacheDisk;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "4",
      description = "Transfer workers per served export (default ${DEFAULT-VALUE})")
  int workers;

  @Option(names = "--max-connections", paramLabel = "N", defaultValue = "256",
      description = "Connections beyond this are refused (default ${DEFAULT-VALUE})")
  int maxConnections;

  @Option(names = HttpAddress.FLAG, paramLabel = "HOST:PORT", defaultValue = "none",
      description = "Serve /healthz and /metrics (Prometheus) on HOST:PORT or :PORT (every interface);"
          + " none: not at all (default ${DEFAULT-VALUE})")
  String httpAddress;

  @Override
  public Integer call() throws Exception {
    if (socket == null && listen == null) {
      throw new IllegalArgumentException("give --socket PATH, --listen HOST:PORT, or both");
    }
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("--tls-cert and --tls-key go together");
    }
    SSLContext tls = tlsCert == null ? null : TlsFiles.serverContext(tlsCert, tlsKey);
    NbdServer.Options options = new NbdServer.Options(socket, listen == null ? null : address(listen), tls,
        allowPlainTcp, Sizes.parse(cacheRam), workers, maxConnections);
    Optional<HttpAddress> http = HttpAddress.parse(httpAddress, false);
    // Checked before anything is opened: a mistake in a --swap value is refused at once.
    swap.specs();
    ObjectStore opened = store.open();
    VolumeOptions volumeOptions = cleaning.apply(store.volumeOptions());
    VolumeManager volumes = cacheDir == null ? new VolumeManager(opened, volumeOptions)
        : new VolumeManager(opened, volumeOptions, new DiskCache(opened, cacheDir, Sizes.parse(cacheDisk), DISK_CACHE_BLOCK));
    PrometheusMeterRegistry registry = HttpEndpoint.registry();
    EngineMetrics metrics = new EngineMetrics(registry).store(opened.describe(), opened);
    Optional<SwapExports> swaps;
    NbdServer server;
    Optional<HttpEndpoint> endpoint;
    try {
      swaps = swap.open();
      try {
        swaps.ifPresent(s -> meters(registry, s));
        // Swap disks first: a volume of the same name would otherwise take the node's swap disk's place.
        ExportSource exports = swaps.<ExportSource>map(s -> ExportSources.of(s, new VolumeExports(volumes)))
            .orElseGet(() -> new VolumeExports(volumes));
        server = NbdServer.start(exports, options, StackSpec.Chooser.DEFAULTS, metrics);
        try {
          endpoint = http.isEmpty() ? Optional.empty() : HttpEndpoint.start(http.get(), registry, server::problem);
        } catch (Exception e) {
          server.close();
          throw e;
        }
      } catch (Exception e) {
        if (swaps.isPresent()) {
          swaps.get().close();
        }
        throw e;
      }
    } catch (Exception e) {
      opened.close();
      throw e;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      endpoint.ifPresent(HttpEndpoint::close);
      server.close();
      volumes.stopCollecting();
      try {
        if (swaps.isPresent()) {
          swaps.get().close();
        }
      } catch (Exception ignored) {
        // Exiting anyway: the pool goes with the process; only a spill file may be left behind.
      }
      try {
        opened.close();
      } catch (Exception ignored) {
        // Exiting anyway.
      }
      stopped.countDown();
    }, "remap-serve-shutdown"));
    PrintWriter out = spec.commandLine().getOut();
    out.println("serving " + opened.describe()
        + (socket == null ? "" : " on unix:" + socket.toAbsolutePath())
        + (server.tcpAddress() == null ? "" : " on " + (tls == null ? "tcp:" : "tcp+tls:")
            + server.tcpAddress().getHostString() + ":" + server.tcpAddress().getPort())
        + swaps.map(ServeCommand::swapDisks).orElse("")
        + endpoint.map(e -> ", health and metrics on http://" + e.address().getHostString() + ":"
            + e.address().getPort()).orElse(""));
    out.flush();
    stopped.await();
    return 0;
  }

  private static void meters(PrometheusMeterRegistry registry, SwapExports swaps) {
    SwapMeters meters = new SwapMeters(registry, swaps.pool());
    for (String name : swaps.names()) {
      swaps.find(name).ifPresent(meters::add);
    }
  }

  /** ", swap disks a, b (pool 1G)", or the pool alone when it has no disks yet. */
  private static String swapDisks(SwapExports swaps) {
    List<String> names = swaps.names().stream().sorted().toList();
    return (names.isEmpty() ? ", no swap disks" : ", swap disks " + String.join(", ", names))
        + " (pool " + Sizes.format(swaps.pool().capBytes()) + ")";
  }

  static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("--listen needs HOST:PORT, e.g. 127.0.0.1:10809, not '" + hostPort + "'");
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--listen port '" + hostPort.substring(colon + 1) + "' is not a number");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--listen port " + port + " is outside 0-65535");
    }
    return new InetSocketAddress(host, port);
  }
}
