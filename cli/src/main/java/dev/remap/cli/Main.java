package dev.remap.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The ./remap command. Wiring only: each subcommand is its own class. */
@Command(
    name = "remap",
    mixinStandardHelpOptions = true,
    versionProvider = BuildInfo.class,
    description = {
      "Remap: virtual machine disks for KubeVirt whose blocks are remapped onto physical",
      "storage units instead of copied.",
    },
    subcommands = {DoctorCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    // No subcommand given: show what there is, and fail so that scripts notice.
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  public static CommandLine commandLine() {
    return new CommandLine(new Main());
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
