package dev.remap.cli;

import dev.remap.engine.core.Sizes;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** ./remap snapshot create|list|delete. */
@Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Snapshots: O(mapping), no data copied.",
    subcommands = {SnapshotCommand.Create.class, SnapshotCommand.ListSnapshots.class, SnapshotCommand.Delete.class})
final class SnapshotCommand {

  /** "vol@snap" into its two names, with a clear error for anything else. */
  static String[] split(String ref) {
    int at = ref.indexOf('@');
    if (at <= 0 || at == ref.length() - 1 || ref.indexOf('@', at + 1) >= 0) {
      throw new IllegalArgumentException("'" + ref + "' is not VOLUME@SNAPSHOT");
    }
    return new String[] {ref.substring(0, at), ref.substring(at + 1)};
  }

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Snapshot a volume.")
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Parameters(index = "0", paramLabel = "VOLUME") String volume;
    @Parameters(index = "1", paramLabel = "SNAPSHOT") String snapshot;

    @Override
    public Integer call() throws Exception {
      try (ObjectStore s = store.open()) {
        VolumeManager.SnapshotInfo info = store.volumes(s).snapshot(volume, snapshot);
        spec.commandLine().getOut().println("created snapshot " + info.volume() + "@" + info.name());
      }
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List a volume's snapshots.")
  static final class ListSnapshots implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Parameters(paramLabel = "VOLUME") String volume;

    @Override
    public Integer call() throws Exception {
      try (ObjectStore s = store.open()) {
        for (VolumeManager.SnapshotInfo info : store.volumes(s).snapshots(volume)) {
          spec.commandLine().getOut().printf("%-40s %8s  %s%n", info.volume() + "@" + info.name(),
              Sizes.format(info.size()), info.created());
        }
      }
      return 0;
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a snapshot.")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Parameters(index = "0", paramLabel = "VOLUME") String volume;
    @Parameters(index = "1", paramLabel = "SNAPSHOT") String snapshot;

    @Override
    public Integer call() throws Exception {
      try (ObjectStore s = store.open()) {
        store.volumes(s).deleteSnapshot(volume, snapshot);
      }
      spec.commandLine().getOut().println("deleted snapshot " + volume + "@" + snapshot);
      return 0;
    }
  }

  private SnapshotCommand() {}
}
