package dev.remap.cli;

import dev.remap.engine.core.Sizes;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.volume.GarbageCollector;
import dev.remap.engine.volume.SnapshotTransfer;
import dev.remap.engine.volume.VolumeMeta;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** ./remap export, import and gc: whole-store operations. */
final class TransferCommands {

  private TransferCommands() {}

  @Command(name = "export", mixinStandardHelpOptions = true,
      description = "Copy a snapshot and the data it references, self-contained, to another store location.")
  static final class Export implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Parameters(paramLabel = "VOLUME@SNAPSHOT") String source;
    @Option(names = "--to", required = true, paramLabel = "URI") String to;

    @Override
    public Integer call() throws Exception {
      String[] parts = SnapshotCommand.split(source);
      try (ObjectStore s = store.open(); ObjectStore target = ObjectStores.open(to)) {
        long bytes = SnapshotTransfer.export(store.volumes(s), parts[0], parts[1], target);
        spec.commandLine().getOut().println("exported " + source + " to " + target.describe()
            + " (" + Sizes.format(bytes) + " bytes)");
      }
      return 0;
    }
  }

  @Command(name = "import", mixinStandardHelpOptions = true, description = "Make a new volume from an export.")
  static final class Import implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Option(names = "--from", required = true, paramLabel = "URI") String from;
    @Parameters(paramLabel = "NAME") String name;

    @Override
    public Integer call() throws Exception {
      try (ObjectStore s = store.open(); ObjectStore source = ObjectStores.open(from)) {
        VolumeMeta meta = SnapshotTransfer.importVolume(source, store.volumes(s), name);
        spec.commandLine().getOut().println("imported " + VolumeCommand.describe(meta));
      }
      return 0;
    }
  }

  @Command(name = "gc", mixinStandardHelpOptions = true,
      description = "Delete data that no volume or snapshot references (safe while volumes are served).")
  static final class Gc implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Option(names = "--grace", defaultValue = "10m", paramLabel = "DURATION",
        description = "Leave objects younger than this alone, e.g. 10m, 1h, 0s (default ${DEFAULT-VALUE})")
    String grace;

    @Override
    public Integer call() throws Exception {
      try (ObjectStore s = store.open()) {
        GarbageCollector.Report report = new GarbageCollector(s, parseDuration(grace)).run();
        spec.commandLine().getOut().printf("examined %d objects, deleted %d (%s bytes), kept %d%n",
            report.examined(), report.deleted(), Sizes.format(report.deletedBytes()), report.kept());
      }
      return 0;
    }
  }

  static Duration parseDuration(String text) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)([smhd])").matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a duration: write a number and s, m, h or d, e.g. 10m");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }
}
