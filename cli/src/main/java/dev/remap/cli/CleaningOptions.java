package dev.remap.cli;

import dev.remap.engine.core.CleaningPolicy;
import dev.remap.engine.core.Sizes;
import dev.remap.engine.volume.VolumeOptions;
import java.time.Duration;
import picocli.CommandLine.Option;

/** How a serving process keeps the store near the size of its data (see docs/ARCHITECTURE.md, the cleaner). */
final class CleaningOptions {

  @Option(names = "--cleaning", paramLabel = "on|off", defaultValue = "on",
      description = "Clean the served volumes' partly dead segments and collect the store's garbage (default ${DEFAULT-VALUE})")
  String cleaning;

  @Option(names = "--space-target", paramLabel = "RATIO", defaultValue = "1.2",
      description = "Stored bytes per live byte a quiet volume is cleaned down to (default ${DEFAULT-VALUE})")
  double target;

  @Option(names = "--space-busy", paramLabel = "RATIO", defaultValue = "1.6",
      description = "The bound while clients write: cleaning less while busy copies less (default ${DEFAULT-VALUE})")
  double busy;

  @Option(names = "--cleaning-rate", paramLabel = "SIZE", defaultValue = "32M",
      description = "Live bytes per second cleaning may copy at most, per volume (default ${DEFAULT-VALUE})")
  String rate;

  @Option(names = "--gc-every", paramLabel = "DURATION", defaultValue = "10m",
      description = "Collect the store's garbage this often besides after cleaning; 0s: only after cleaning (default ${DEFAULT-VALUE})")
  String collectEvery;

  @Option(names = "--gc-grace", paramLabel = "DURATION", defaultValue = "5m",
      description = "Never collect objects younger than this (default ${DEFAULT-VALUE})")
  String collectGrace;

  VolumeOptions apply(VolumeOptions options) {
    boolean on = switch (cleaning) {
      case "on" -> true;
      case "off" -> false;
      default -> throw new IllegalArgumentException("--cleaning is on or off, not '" + cleaning + "'");
    };
    CleaningPolicy.Settings d = CleaningPolicy.Settings.defaults();
    CleaningPolicy.Settings policy = new CleaningPolicy.Settings(target, busy, d.hysteresis(), d.minReclaim(),
        d.maxCopy(), d.maxUtilization(), d.order());
    VolumeOptions.Cleaning c = options.cleaning();
    return options.withCleaning(new VolumeOptions.Cleaning(on, policy, c.interval(), Sizes.parse(rate), c.idleAfter(),
        duration("--gc-every", collectEvery), duration("--gc-grace", collectGrace)));
  }

  static Duration duration(String flag, String text) {
    try {
      return TransferCommands.parseDuration(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + ": " + e.getMessage());
    }
  }
}
