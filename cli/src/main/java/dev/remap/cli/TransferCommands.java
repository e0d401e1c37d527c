package dev.remap.cli;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.Sizes;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.GarbageCollector;
import dev.remap.engine.volume.SnapshotTransfer;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
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
      description = {"Copy a snapshot and the data it references, self-contained, to another store location.",
          "Prints `progress copied=BYTES total=BYTES` on stdout at most once a second, a sentence for a person, and"
          + " `done copied=… total=…` last (a bar on stderr too when it is a terminal). Safe to run again: a target that holds"
          + " this snapshot's complete export already is left as it is (done … existing=true); a different"
          + " export there is never overwritten.",
          "Credentials: REMAP_STORE_ACCESS_KEY_ID/REMAP_STORE_SECRET_ACCESS_KEY for --store and"
          + " REMAP_TO_ACCESS_KEY_ID/REMAP_TO_SECRET_ACCESS_KEY for --to, else the AWS default chain."})
  static final class Export implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Parameters(paramLabel = "VOLUME@SNAPSHOT") String source;
    @Option(names = "--to", required = true, paramLabel = "URI") String to;
    @Option(names = "--termination-log", hidden = true, defaultValue = TerminationMessage.DEFAULT_PATH) Path terminationLog;

    @Override
    public Integer call() {
      return Transfer.run(spec, terminationLog, () -> {
        String[] parts = SnapshotCommand.split(source);
        Map<String, String> env = System.getenv();
        try (ObjectStore s = EnvCredentials.open(store.store, EnvCredentials.STORE, env);
             ObjectStore target = EnvCredentials.open(to, EnvCredentials.TO, env)) {
          MappingTable table = ExportManifests.snapshot(s, parts[0], parts[1]);
          TransferProgress progress = Transfer.progress(spec, ExportManifests.totalBytes(s, table.referencedKeys()));
          if (target.stat(SnapshotTransfer.MANIFEST).isPresent()) {
            if (!ExportManifests.holdsSameExport(s, table, target)) {
              throw new IllegalStateException(target.describe() + " holds a different export already: export to an "
                  + "empty prefix (an export is never overwritten)");
            }
            spec.commandLine().getOut().println(target.describe() + " holds this export of " + source + " already");
            return progress.done(true);
          }
          progress.start();
          SnapshotTransfer.export(store.volumes(s), parts[0], parts[1], new CountingStore(target, "objects/", progress::add));
          spec.commandLine().getOut().println("exported " + source + " to " + target.describe()
              + " (" + Sizes.format(progress.copied()) + " bytes of data)");
          return progress.done(false);
        }
      });
    }
  }

  @Command(name = "import", mixinStandardHelpOptions = true,
      description = {"Make a new volume from an export (what `remap export` wrote).",
          "Progress lines on stdout as for export. Safe to run again: a volume NAME imported from the same"
          + " URI before is kept (done … existing=true); any other volume NAME is an error. --size grows the"
          + " volume to SIZE after the import (an export larger than SIZE is an error).",
          "Credentials: REMAP_STORE_* for --store and REMAP_FROM_ACCESS_KEY_ID/REMAP_FROM_SECRET_ACCESS_KEY"
          + " for --from, else the AWS default chain."})
  static final class Import implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Option(names = "--from", required = true, paramLabel = "URI") String from;
    @Option(names = "--size", paramLabel = "SIZE", description = "Grow the volume to this size, e.g. 10G") String size;
    @Parameters(paramLabel = "NAME") String name;
    @Option(names = "--termination-log", hidden = true, defaultValue = TerminationMessage.DEFAULT_PATH) Path terminationLog;

    @Override
    public Integer call() {
      return Transfer.run(spec, terminationLog, () -> {
        Map<String, String> env = System.getenv();
        Long wanted = size == null ? null : Sizes.parse(size);
        try (ObjectStore s = EnvCredentials.open(store.store, EnvCredentials.STORE, env);
             ObjectStore source = EnvCredentials.open(from, EnvCredentials.FROM, env)) {
          MappingTable table = ExportManifests.export(source);
          TransferProgress progress = Transfer.progress(spec, ExportManifests.totalBytes(source, table.referencedKeys()));
          if (wanted != null && table.geometry().size() > wanted) {
            throw new IllegalStateException("the export in " + source.describe() + " is " + table.geometry().size()
                + " bytes, more than --size " + size + ": give at least that size");
          }
          VolumeManager volumes = new VolumeManager(new CountingStore(s, StoreLayout.IMPORTS, progress::add), store.volumeOptions());
          Optional<VolumeMeta> existing = volumes.find(name);
          boolean again = existing.isPresent();
          if (again && !("import:" + source.describe()).equals(existing.get().origin())) {
            throw new IllegalStateException("volume " + name + " already exists in " + s.describe()
                + " and was not imported from " + source.describe());
          }
          VolumeMeta meta;
          if (again) {
            meta = existing.get();
          } else {
            progress.start();
            meta = SnapshotTransfer.importVolume(source, volumes, name);
          }
          if (wanted != null && meta.geometry().size() < wanted) {
            meta = volumes.resize(name, wanted);
          }
          spec.commandLine().getOut().println((again ? "imported before: " : "imported ") + VolumeCommand.describe(meta));
          return progress.done(again);
        }
      });
    }
  }

  /** What export and import share: progress on stdout, and failure as one sentence (stderr + termination log). */
  static final class Transfer {

    interface Copy {
      /** Does the copy; returns the final progress line. */
      String run() throws Exception;
    }

    private Transfer() {}

    static int run(CommandSpec spec, Path terminationLog, Copy copy) {
      try {
        TerminationMessage.write(terminationLog, copy.run());
        return 0;
      } catch (Exception e) {
        // A Job's pod says why it failed in its termination message; a person reads stderr.
        String sentence = TerminationMessage.sentence(e);
        spec.commandLine().getErr().println("remap: " + sentence);
        spec.commandLine().getErr().flush();
        TerminationMessage.write(terminationLog, sentence);
        return 1;
      }
    }

    static TransferProgress progress(CommandSpec spec, long total) {
      return new TransferProgress(spec.commandLine().getOut(), spec.commandLine().getErr(), stderrIsTerminal(),
          System::nanoTime, total);
    }

    /** Linux: fd 2 is a terminal when it links to a tty device (Java has no isatty for stderr). */
    static boolean stderrIsTerminal() {
      try {
        String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
        return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
      } catch (IOException | UnsupportedOperationException | SecurityException e) {
        return false;
      }
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
