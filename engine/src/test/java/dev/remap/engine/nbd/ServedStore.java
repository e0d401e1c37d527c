package dev.remap.engine.nbd;

import dev.remap.engine.export.StackSpec;
import dev.remap.engine.export.VolumeExports;
import dev.remap.engine.metrics.EngineMetrics;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/** A file store with an in-process {@link NbdServer} on a Unix socket and loopback TCP, for tests. */
final class ServedStore implements AutoCloseable {

  final Path dir;
  final ObjectStore store;
  final VolumeManager volumes;
  final Path socket;
  final NbdServer server;

  private ServedStore(Path dir, NbdServer.Options options) throws IOException {
    this(dir, options, StackSpec.Chooser.DEFAULTS);
  }

  private ServedStore(Path dir, NbdServer.Options options, StackSpec.Chooser stacks) throws IOException {
    this.dir = dir;
    this.store = FileObjectStore.open(dir.resolve("store"));
    this.volumes = new VolumeManager(store, VolumeOptions.defaults(dir.resolve("journal"))
        .withSegments(VolumeOptions.DEFAULT_SEGMENT_TARGET, Duration.ofMillis(200), 16));
    this.socket = options.socket();
    this.server = NbdServer.start(new VolumeExports(volumes), options, stacks, EngineMetrics.none());
  }

  static ServedStore start(Path dir) throws IOException {
    return start(dir, 64L << 20);
  }

  static ServedStore start(Path dir, long ramCache) throws IOException {
    return new ServedStore(dir, new NbdServer.Options(dir.resolve("nbd.sock"),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null, false, ramCache, 3, 64));
  }

  static ServedStore start(Path dir, NbdServer.Options options) throws IOException {
    return new ServedStore(dir, options);
  }

  /** The usual test server, whose exports' stacks are chosen by stacks at each opening. */
  static ServedStore start(Path dir, StackSpec.Chooser stacks) throws IOException {
    return new ServedStore(dir, new NbdServer.Options(dir.resolve("nbd.sock"),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null, false, 64L << 20, 3, 64), stacks);
  }

  ServedStore volume(String name, long size) throws IOException {
    volumes.create(name, size, 4096, 1 << 20);
    return this;
  }

  /** The nbd+unix URI of an export, as libnbd and QEMU take it. */
  String uri(String export) {
    return "nbd+unix:///" + export + "?socket=" + socket;
  }

  String tcpUri(String export) {
    return "nbd://127.0.0.1:" + server.tcpAddress().getPort() + "/" + export;
  }

  @Override
  public void close() throws Exception {
    try {
      server.close();
    } finally {
      store.close();
    }
  }
}
