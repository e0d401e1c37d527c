package dev.remap.engine.share;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How a share's files become groups, one logical disk each (seed 004: by folder, "folder A may be
 * converted into a logical disk", or by data type, "text type and photo type"). Pure.
 *
 * <ul>
 *   <li>{@link Mode#SINGLE}: one group, {@value #ALL}, holding the whole tree.
 *   <li>{@link Mode#BY_FOLDER}: one group per top-level folder, named after it, holding what is
 *       under it; files at the root go to the {@code others} group.
 *   <li>{@link Mode#BY_DATA_TYPE}: one group per data type, holding the files whose extension
 *       (after the last dot, any case) is one of its extensions, with their folders; the first
 *       type listed wins when two share an extension; files of no type go to {@code others}.
 * </ul>
 * {@code others} null leaves such files out of every disk (they stay in the cloud, reported as
 * skipped). Every data type has a disk even while it has no file, so a VM finds it and can add
 * files to it.
 */
public final class ShareSplit {

  public static final String ALL = "all";

  public enum Mode { SINGLE, BY_FOLDER, BY_DATA_TYPE }

  /** The rule: mode, data types in order (name → extensions), and the group for the rest. */
  public record Rule(Mode mode, Map<String, List<String>> dataTypes, String others) {
    public Rule {
      dataTypes = dataTypes == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(dataTypes));
    }
  }

  /** Where a cloud file goes: its group and its path on that group's disk. */
  public record Placed(String group, List<String> path) {}

  private ShareSplit() {}

  /** The group and path of the cloud file name ('/'-separated), or empty when it is left out. */
  public static Optional<Placed> place(Rule rule, String name) {
    List<String> path = path(name);
    return switch (rule.mode()) {
      case SINGLE -> Optional.of(new Placed(ALL, path));
      case BY_FOLDER -> path.size() > 1
          ? Optional.of(new Placed(path.get(0), path.subList(1, path.size())))
          : Optional.ofNullable(rule.others()).map(group -> new Placed(group, path));
      case BY_DATA_TYPE -> dataType(rule, path.get(path.size() - 1))
          .or(() -> Optional.ofNullable(rule.others()))
          .map(group -> new Placed(group, path));
    };
  }

  /**
   * The groups a share has for these cloud files and folder markers: every data type (byDataType),
   * every top-level folder (byFolder), {@value #ALL} (single), and others when a file goes there.
   */
  public static Set<String> groups(Rule rule, List<String> files, List<String> folders) {
    Set<String> groups = new TreeSet<>();
    switch (rule.mode()) {
      case SINGLE -> groups.add(ALL);
      case BY_DATA_TYPE -> groups.addAll(rule.dataTypes().keySet());
      case BY_FOLDER -> {
        for (String folder : folders) {
          groups.add(path(folder).get(0));
        }
      }
    }
    for (String file : files) {
      place(rule, file).ifPresent(placed -> groups.add(placed.group()));
    }
    return groups;
  }

  /**
   * The folders (paths on the group's disk) that folder markers give a group, beyond those its
   * files imply: empty folders stay folders. byDataType keeps only files.
   */
  public static Map<String, List<List<String>>> directories(Rule rule, List<String> folders) {
    Map<String, List<List<String>>> out = new TreeMap<>();
    for (String folder : folders) {
      List<String> path = path(folder);
      switch (rule.mode()) {
        case SINGLE -> out.computeIfAbsent(ALL, g -> new ArrayList<>()).add(path);
        case BY_FOLDER -> {
          if (path.size() > 1) {
            out.computeIfAbsent(path.get(0), g -> new ArrayList<>()).add(path.subList(1, path.size()));
          }
        }
        case BY_DATA_TYPE -> { }
      }
    }
    return out;
  }

  /**
   * The cloud name of a file at path on group's disk: the inverse of {@link #place}. A file a VM
   * adds to the others disk of byFolder lands at the cloud's root.
   */
  public static String cloudName(Rule rule, String group, List<String> path) {
    String joined = String.join("/", path);
    return rule.mode() == Mode.BY_FOLDER && !group.equals(rule.others()) ? group + "/" + joined : joined;
  }

  /** The names of a cloud path; empty names (a doubled or leading '/') are dropped. */
  public static List<String> path(String name) {
    return List.copyOf(Arrays.stream(name.split("/")).filter(part -> !part.isEmpty()).toList());
  }

  private static Optional<String> dataType(Rule rule, String fileName) {
    int dot = fileName.lastIndexOf('.');
    if (dot <= 0 || dot == fileName.length() - 1) {
      return Optional.empty();
    }
    String extension = fileName.substring(dot + 1).toLowerCase(Locale.ROOT);
    for (Map.Entry<String, List<String>> type : rule.dataTypes().entrySet()) {
      for (String candidate : type.getValue()) {
        if (candidate.toLowerCase(Locale.ROOT).equals(extension)) {
          return Optional.of(type.getKey());
        }
      }
    }
    return Optional.empty();
  }
}
