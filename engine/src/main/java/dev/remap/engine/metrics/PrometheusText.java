package dev.remap.engine.metrics;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Writes metrics in the Prometheus text exposition format (version 0.0.4). Pure: callers add
 * samples, {@link #toString()} renders them, grouped by metric with one HELP and TYPE line each.
 */
public final class PrometheusText {

  private record Family(String type, String help, StringBuilder samples) {}

  private final Map<String, Family> families = new LinkedHashMap<>();

  public PrometheusText counter(String name, String help, double value, String... labels) {
    return sample(name, "counter", help, value, labels);
  }

  public PrometheusText gauge(String name, String help, double value, String... labels) {
    return sample(name, "gauge", help, value, labels);
  }

  private PrometheusText sample(String name, String type, String help, double value, String... labels) {
    if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*") || labels.length % 2 != 0) {
      throw new IllegalArgumentException("bad metric " + name);
    }
    Family family = families.computeIfAbsent(name, n -> new Family(type, help, new StringBuilder()));
    StringBuilder line = family.samples().append(name);
    if (labels.length > 0) {
      line.append('{');
      for (int i = 0; i < labels.length; i += 2) {
        if (i > 0) {
          line.append(',');
        }
        line.append(labels[i]).append("=\"").append(escape(labels[i + 1])).append('"');
      }
      line.append('}');
    }
    line.append(' ').append(format(value)).append('\n');
    return this;
  }

  private static String escape(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static String format(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : String.format(Locale.ROOT, "%s", value);
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    families.forEach((name, family) -> out.append("# HELP ").append(name).append(' ').append(family.help()).append('\n')
        .append("# TYPE ").append(name).append(' ').append(family.type()).append('\n')
        .append(family.samples()));
    return out.toString();
  }
}
