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
    subcommands = {VolumeCommand.class, SnapshotCommand.class, TransferCommands.Export.class,
        TransferCommands.Import.class, TransferCommands.Gc.class, ServeCommand.class, CsiCommand.class, ShareAgentCommand.class, HelperKeeperCommand.class, DoctorCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    // No subcommand given: show what there is, and fail so that scripts notice.
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    // A request that cannot be done is one sentence on stderr and exit status 1, not a trace.
    cli.setExecutionExceptionHandler((e, command, parsed) -> {
      if (e instanceof java.io.IOException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
        command.getErr().println("remap: " + e.getMessage());
        return 1;
      }
      throw e;
    });
    return cli;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
