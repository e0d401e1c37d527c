package dev.remap.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The file Kubernetes reads a container's termination message from (a pod's
 * terminationMessagePath, /dev/termination-log by default; it exists only in a container).
 * A Job's outcome is read there by the operator: the failure sentence, or the final progress
 * line. Kubernetes keeps at most 4096 bytes of it; the message is cut to fit.
 */
final class TerminationMessage {

  static final String DEFAULT_PATH = "/dev/termination-log";
  private static final int LIMIT = 4096;

  private TerminationMessage() {}

  /** Writes message when the file exists; outside a container there is nothing to do. */
  static void write(Path file, String message) {
    if (file == null || !Files.exists(file)) {
      return;
    }
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    try {
      Files.write(file, bytes.length <= LIMIT ? bytes : java.util.Arrays.copyOf(bytes, LIMIT));
    } catch (IOException e) {
      // The same sentence is on stderr, which Kubernetes falls back to (FallbackToLogsOnError).
    }
  }

  /** One line, whatever the exception carried (a message with newlines would break the log's last line). */
  static String sentence(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.replaceAll("\\s*\\R\\s*", " ").trim();
  }
}
