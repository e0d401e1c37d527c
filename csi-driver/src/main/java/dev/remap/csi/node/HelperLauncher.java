package dev.remap.csi.node;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Starts the processes a kernel device depends on after the node plugin has attached it: nbdfuse
 * (which serves the FUSE file a loop device is on) and each device's {@link ReconnectingProxy}.
 * They must outlive the plugin so that a device survives the plugin's restart (the proxy
 * reconnects to the next plugin's engine). Where the plugin runs as a plain process, starting them as its
 * children is enough ({@link #LOCAL}); in a pod, a container's processes die with it, so they are
 * started by the {@link HelperKeeper} of the node, a separate long-lived pod ({@link KeeperClient}).
 * Either way the pid is a pid of this host's PID namespace (pods run with hostPID), so the plugin
 * can check and stop what it started.
 */
public interface HelperLauncher {

  /** Starts the command in the background, its output into log; returns its pid. */
  long start(List<String> command, Path log) throws IOException;

  /** Runs the command to its end (e.g. a command that daemonizes): its exit code and output. */
  Commands.Result run(int timeoutSeconds, List<String> command) throws IOException;

  /** Where helpers run, for messages. */
  String describe();

  /** Helpers as children of this process. */
  HelperLauncher LOCAL = new HelperLauncher() {
    @Override
    public long start(List<String> command, Path log) throws IOException {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      process.getOutputStream().close();
      return process.pid();
    }

    @Override
    public Commands.Result run(int timeoutSeconds, List<String> command) throws IOException {
      return Commands.tryRun(timeoutSeconds, command.toArray(String[]::new));
    }

    @Override
    public String describe() {
      return "this process";
    }
  };
}
