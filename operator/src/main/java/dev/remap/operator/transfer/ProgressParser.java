package dev.remap.operator.transfer;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what `remap export` / `remap import` print on stdout (the tail of a Job pod's log, or its
 * termination message): {@code progress copied=N total=N} at most once a second and
 * {@code done copied=N total=N [existing=true]} at the end. Pure; anything else on a line (a
 * JVM warning, a line cut by the log tail) is ignored rather than guessed at.
 */
public final class ProgressParser {

  private static final Pattern LINE = Pattern.compile(
      "^(progress|done) copied=(\\d{1,19}) total=(\\d{1,19})(?: existing=(true|false))?\\s*$");

  /** Bytes copied of total; done once the command finished; existing when nothing had to be copied. */
  public record Progress(long copied, long total, boolean done, boolean existing) {
    public int percent() {
      if (done || total <= 0) {
        return done || total == 0 ? 100 : 0;
      }
      return (int) Math.min(100, Math.max(0, copied * 100 / total));
    }
  }

  private ProgressParser() {}

  /** The newest progress in text (several lines), if any line is one. */
  public static Optional<Progress> last(String text) {
    if (text == null) {
      return Optional.empty();
    }
    List<String> lines = text.lines().toList();
    for (int i = lines.size() - 1; i >= 0; i--) {
      Optional<Progress> p = line(lines.get(i));
      if (p.isPresent()) {
        return p;
      }
    }
    return Optional.empty();
  }

  static Optional<Progress> line(String line) {
    Matcher m = LINE.matcher(line.strip());
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new Progress(Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), m.group(1).equals("done"),
          "true".equals(m.group(4))));
    } catch (NumberFormatException e) {
      return Optional.empty(); // more than a long: not ours
    }
  }
}
