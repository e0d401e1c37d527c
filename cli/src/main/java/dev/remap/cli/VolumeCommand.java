package dev.remap.cli;

import dev.remap.engine.core.Sizes;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.SpaceReport;
import dev.remap.engine.volume.VolumeMeta;
import dev.remap.engine.volume.VolumeManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** ./remap volume create|list|delete|resize|clone. */
@Command(name = "volume", mixinStandardHelpOptions = true, description = "Create, list, grow, clone and delete volumes.",
    subcommands = {VolumeCommand.Create.class, VolumeCommand.ListVolumes.class, VolumeCommand.Delete.class,
        VolumeCommand.Resize.class, VolumeCommand.Clone.class})
final class VolumeCommand {

  static String describe(VolumeMeta m) {
    return String.format("%-32s %8s  block %4d  chunk %5s  %s%s", m.name(), Sizes.format(m.geometry().size()),
        m.geometry().blockSize(), Sizes.format(m.geometry().chunkSize()), m.created(),
        m.origin() == null ? "" : "  from " + m.origin());
  }

  /**
   * A line of {@code volume list}: {@link #describe}'s columns, then what the volume's segments
   * take in the store and how much of that its data still references, with their ratio, as the
   * volume's owner last measured them; "-" for a volume never served (or not measured yet).
   */
  static String describe(VolumeMeta m, Optional<SpaceReport> space) {
    Optional<SpaceReport> known = space.filter(SpaceReport::measured);
    String stored = known.map(r -> TransferProgress.human(r.storedBytes())).orElse("-");
    String live = known.map(r -> TransferProgress.human(r.liveBytes())).orElse("-");
    String ratio = known.map(r -> Double.isInfinite(r.amplification()) ? "∞" : r.amplificationText() + "×")
        .orElse("-");
    return String.format("%-32s %8s  block %4d  chunk %5s  stored %9s  live %9s  %6s  %s%s", m.name(),
        Sizes.format(m.geometry().size()), m.geometry().blockSize(), Sizes.format(m.geometry().chunkSize()), stored,
        live, ratio, m.created(), m.origin() == null ? "" : "  from " + m.origin());
  }

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an empty volume.")
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Parameters(paramLabel = "NAME") String name;
    @Option(names = "--size", required = true, paramLabel = "SIZE", description = "Size with K/M/G/T suffix, e.g. 10G") String size;
    @Option(names = "--block-size", defaultValue = "4096", description = "Logical block size: 512 or 4096 (default ${DEFAULT-VALUE})") int blockSize;
    @Option(names = "--chunk-size", defaultValue = "1M", description = "Virtual storage unit, 64K to 64M (default ${DEFAULT-VALUE})") String chunkSize;

    @Override
    public Integer call() throws Exception {
      try (ObjectStore s = store.open()) {
        VolumeMeta meta = store.volumes(s).create(name, Sizes.parse(size), blockSize, (int) Math.min(Integer.MAX_VALUE, Sizes.parse(chunkSize)));
        spec.commandLine().getOut().println("created " + describe(meta));
      }
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the volumes of a store, with the"
      + " bytes each one's segments take in it (stored), the bytes of those its data references (live) and their"
      + " ratio, as the volume's owner last measured them.")
  static final class ListVolumes implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      try (ObjectStore s = store.open()) {
        VolumeManager volumes = store.volumes(s);
        for (VolumeMeta meta : volumes.list()) {
          out.println(describe(meta, space(volumes, meta.name())));
        }
      }
      return 0;
    }

    /** The volume's space from its lease; unknown when that cannot be read (deleted meanwhile, damaged). */
    private static Optional<SpaceReport> space(VolumeManager volumes, String name) {
      try {
        return volumes.space(name);
      } catch (IOException e) {
        return Optional.empty();
      }
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete a volume (its snapshots and clones stay valid; gc frees unreferenced data).")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Parameters(paramLabel = "NAME") String name;

    @Override
    public Integer call() throws Exception {
      try (ObjectStore s = store.open()) {
        store.volumes(s).delete(name);
      }
      spec.commandLine().getOut().println("deleted " + name);
      return 0;
    }
  }

  @Command(name = "resize", mixinStandardHelpOptions = true, description = "Grow a volume that is not being served.")
  static final class Resize implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Parameters(paramLabel = "NAME") String name;
    @Option(names = "--size", required = true, paramLabel = "SIZE") String size;

    @Override
    public Integer call() throws Exception {
      try (ObjectStore s = store.open()) {
        VolumeMeta meta = store.volumes(s).resize(name, Sizes.parse(size));
        spec.commandLine().getOut().println("resized " + describe(meta));
      }
      return 0;
    }
  }

  @Command(name = "clone", mixinStandardHelpOptions = true, description = "A new copy-on-write volume from a snapshot.")
  static final class Clone implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Parameters(index = "0", paramLabel = "VOLUME@SNAPSHOT") String source;
    @Parameters(index = "1", paramLabel = "NEW") String name;

    @Override
    public Integer call() throws Exception {
      String[] parts = SnapshotCommand.split(source);
      try (ObjectStore s = store.open()) {
        VolumeManager volumes = store.volumes(s);
        VolumeMeta meta = volumes.clone(parts[0], parts[1], name);
        spec.commandLine().getOut().println("cloned " + describe(meta));
      }
      return 0;
    }
  }

  private VolumeCommand() {}
}
