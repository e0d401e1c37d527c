package dev.remap.api.common;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as Kubernetes resources write them (Go's time.ParseDuration subset the CRDs allow):
 * one or more of a number (maybe with a fraction) and ms, s, m or h, e.g. 1s, 500ms, 1m30s: the
 * form {@link Cel#DURATION_PATTERN} admits. One parser for the operator (fields the API server
 * checked) and the CLI (flags that carry those fields to a share agent).
 */
public final class GoDuration {

  private static final Pattern WHOLE = Pattern.compile(Cel.DURATION_PATTERN);
  private static final Pattern PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");

  private GoDuration() {}

  /** text as a Duration; what (a flag or field) names it in the error for a malformed or sub-millisecond one. */
  public static Duration parse(String what, String text) {
    if (text == null || !WHOLE.matcher(text).matches()) {
      throw new IllegalArgumentException(what + ": '" + text + "' is not a duration: write e.g. 1s, 500ms, 30s or 1m30s");
    }
    double nanos = 0;
    Matcher part = PART.matcher(text);
    while (part.find()) {
      double value = Double.parseDouble(part.group(1));
      nanos += value * switch (part.group(2)) {
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        default -> 3600e9;
      };
    }
    if (nanos < 1e6) {
      throw new IllegalArgumentException(what + ": '" + text + "' is shorter than a millisecond");
    }
    return Duration.ofNanos((long) nanos);
  }
}
