package dev.remap.cli;

import dev.remap.csi.node.AttachMethod;
import dev.remap.csi.node.HostFacts;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Tells whether this host can attach Remap volumes as kernel block devices, and how. */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = "Check this host for what a Remap node needs to attach volumes.")
final class DoctorCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    HostFacts host = HostFacts.probe();
    for (AttachMethod method : AttachMethod.values()) {
      List<String> missing = AttachMethod.missingFor(method, host);
      out.printf("%-13s %-45s %s%n", method.name().toLowerCase().replace('_', '-'),
          method.description(), missing.isEmpty() ? "available" : "missing: " + String.join("; ", missing));
    }
    Optional<AttachMethod> chosen = AttachMethod.choose(host);
    if (chosen.isEmpty()) {
      out.println("This host cannot attach Remap volumes: install what one of the methods above is missing.");
      return 1;
    }
    out.println("Volumes on this host attach with: " + chosen.get().description());
    return 0;
  }
}
