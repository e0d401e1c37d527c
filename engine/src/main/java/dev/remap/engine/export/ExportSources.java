package dev.remap.engine.export;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/** Several sources served by one server: a name is looked up in each in turn, the first that has it serves it. */
public final class ExportSources implements ExportSource {

  private final List<ExportSource> sources;

  private ExportSources(List<ExportSource> sources) {
    this.sources = List.copyOf(sources);
  }

  public static ExportSource of(ExportSource... sources) {
    return sources.length == 1 ? sources[0] : new ExportSources(List.of(sources));
  }

  @Override
  public List<String> names() throws IOException {
    LinkedHashSet<String> names = new LinkedHashSet<>();
    for (ExportSource s : sources) {
      names.addAll(s.names());
    }
    return new ArrayList<>(names);
  }

  @Override
  public Optional<ExportDescription> describe(String name) throws IOException {
    for (ExportSource s : sources) {
      Optional<ExportDescription> d = s.describe(name);
      if (d.isPresent()) {
        return d;
      }
    }
    return Optional.empty();
  }

  @Override
  public Optional<ExportBase> open(String name, StackSpec stack) throws IOException {
    for (ExportSource s : sources) {
      Optional<ExportBase> b = s.open(name, stack);
      if (b.isPresent()) {
        return b;
      }
    }
    return Optional.empty();
  }
}
