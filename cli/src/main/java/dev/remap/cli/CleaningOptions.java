package dev.remap.cli;

import dev.remap.engine.core.CleaningPolicy;
import dev.remap.engine.core.Sizes;
import dev.remap.engine.volume.VolumeOptions;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * How a serving process keeps the store near the size of its data (see docs/ARCHITECTURE.md, the
 * cleaner): mixed into {@code remap serve} and {@code remap csi}. The defaults are those of
 * {@link VolumeOptions.Cleaning#defaults()} (CleaningOptionsTest holds them equal). The collection
 * flags are {@code --collect-*}, not {@code --gc-*}: {@code remap csi} has {@code --gc-interval} and
 * {@code --gc-grace} for the controller's own, hourly collection.
 */
final class CleaningOptions {

  @Option(names = "--cleaning", paramLabel = "on|off", defaultValue = "on",
      description = "Clean the served volumes' partly dead segments and collect the store's garbage;"
          + " off: neither (default ${DEFAULT-VALUE})")
  String cleaning;

  @Option(names = "--space-target", paramLabel = "RATIO", defaultValue = "1.2",
      description = "Stored bytes per live byte a quiet volume is cleaned down to, at least 1.0"
          + " (default ${DEFAULT-VALUE})")
  double target;

  @Option(names = "--space-busy", paramLabel = "RATIO", defaultValue = "1.6",
      description = "The bound while clients write, at least --space-target: cleaning less while busy copies less"
          + " (default ${DEFAULT-VALUE})")
  double busy;

  @Option(names = "--cleaning-rate", paramLabel = "SIZE", defaultValue = "32M",
      description = "Live bytes per second cleaning may copy at most, per volume (default ${DEFAULT-VALUE})")
  String rate;

  @Option(names = "--collect-every", paramLabel = "DURATION", defaultValue = "10m",
      description = "Collect the store's garbage this often besides after cleaning; 0s: only after cleaning"
          + " (default ${DEFAULT-VALUE})")
  String collectEvery;

  @Option(names = "--collect-grace", paramLabel = "DURATION", defaultValue = "5m",
      description = "Never collect objects younger than this (default ${DEFAULT-VALUE}), except segments of "
          + "volumes served here that their newest checkpoint left behind")
  String collectGrace;

  /** The options with these flags' cleaning in place of theirs. */
  VolumeOptions apply(VolumeOptions options) {
    return options.withCleaning(cleaning(options.cleaning()));
  }

  /** What the flags say, over the defaults for what they leave out (check interval, quiet time). */
  VolumeOptions.Cleaning cleaning() {
    return cleaning(VolumeOptions.Cleaning.defaults());
  }

  /**
   * Every flag is checked here, so that an error names the flag rather than the engine's field
   * (CleaningPolicy.Settings would say "targetAmplification"); checked even with --cleaning off,
   * so that turning it on later does not reveal a mistake.
   */
  private VolumeOptions.Cleaning cleaning(VolumeOptions.Cleaning base) {
    boolean on = switch (cleaning) {
      case "on" -> true;
      case "off" -> false;
      default -> throw new IllegalArgumentException("--cleaning is on or off, not '" + cleaning + "'");
    };
    ratio("--space-target", target);
    ratio("--space-busy", busy);
    if (busy < target) {
      throw new IllegalArgumentException("--space-busy (" + busy + ") must be at least --space-target (" + target
          + "): a volume being written may hold more garbage than a quiet one, not less");
    }
    long bytesPerSecond = size("--cleaning-rate", rate);
    if (bytesPerSecond <= 0) {
      throw new IllegalArgumentException("--cleaning-rate must be more than 0 bytes per second, not '" + rate
          + "' (turn cleaning off with --cleaning off)");
    }
    CleaningPolicy.Settings d = base.policy();
    CleaningPolicy.Settings policy = new CleaningPolicy.Settings(target, busy, d.hysteresis(), d.minReclaim(),
        d.maxCopy(), d.maxUtilization(), d.order());
    return new VolumeOptions.Cleaning(on, policy, base.interval(), bytesPerSecond, base.idleAfter(),
        duration("--collect-every", collectEvery), duration("--collect-grace", collectGrace));
  }

  private static void ratio(String flag, double value) {
    // Written as !(x >= 1) so that NaN is refused too.
    if (!(value >= 1.0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(flag + " is stored bytes per live byte: a number of at least 1.0, not "
          + value);
    }
  }

  private static long size(String flag, String text) {
    try {
      return Sizes.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + ": " + e.getMessage());
    }
  }

  static Duration duration(String flag, String text) {
    try {
      return TransferCommands.parseDuration(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + ": " + e.getMessage());
    }
  }
}
