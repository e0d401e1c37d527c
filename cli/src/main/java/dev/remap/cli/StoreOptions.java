package dev.remap.cli;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command that works on a store shares. */
final class StoreOptions {

  @Option(names = "--store", required = true, paramLabel = "URI",
      description = "Where volumes live: file:///path or s3://bucket/prefix?endpoint=http://host:port&region=R&pathStyle=true")
  String store;

  @Option(names = "--journal", paramLabel = "DIR",
      description = "Local folder of the write journals (default: $XDG_STATE_HOME/remap/journal or ~/.local/state/remap/journal)")
  Path journal;

  @Option(names = "--node-id", paramLabel = "ID",
      description = "This node's name in the store's volume leases (default: the host name); "
          + "one owner per volume at a time across nodes")
  String nodeId;

  VolumeOptions volumeOptions() {
    VolumeOptions options = VolumeOptions.defaults(journalDir());
    return nodeId == null ? options : options.withNode(nodeId);
  }

  Path journalDir() {
    if (journal != null) {
      return journal;
    }
    String state = System.getenv("XDG_STATE_HOME");
    Path base = state != null && !state.isBlank()
        ? Path.of(state)
        : Path.of(System.getProperty("user.home"), ".local", "state");
    return base.resolve("remap").resolve("journal");
  }

  ObjectStore open() throws IOException {
    return ObjectStores.open(store);
  }

  VolumeManager volumes(ObjectStore opened) {
    return new VolumeManager(opened, volumeOptions());
  }
}
