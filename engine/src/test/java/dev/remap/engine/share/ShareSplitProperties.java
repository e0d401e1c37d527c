package dev.remap.engine.share;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** The split against a model: each rule's promise checked file by file on random trees. */
class ShareSplitProperties {

  private static final String[] NAMES = {"Photos", "Texts", "a b", "Ünïcødé", "x.y", "deep", "✓", "IMG_1.JPG",
      "note.txt", "clip.mp4", "README", "archive.tar.gz", "photo.jpeg", ".hidden"};
  private static final Map<String, List<String>> TYPES = new LinkedHashMap<>();

  static {
    TYPES.put("photos", List.of("jpg", "jpeg", "png"));
    TYPES.put("texts", List.of("txt", "md"));
    TYPES.put("also-photos", List.of("JPG", "gz"));
  }

  @Property(tries = 300)
  void everyFileGoesWhereItsRuleSays(@ForAll long seed) {
    Random random = new Random(seed);
    List<String> files = new ArrayList<>();
    for (int i = 0; i < 1 + random.nextInt(30); i++) {
      StringBuilder name = new StringBuilder();
      int depth = 1 + random.nextInt(4);
      for (int d = 0; d < depth; d++) {
        name.append(d > 0 ? "/" : "").append(NAMES[random.nextInt(NAMES.length)]);
      }
      files.add(name.toString());
    }
    String others = random.nextBoolean() ? "other" : null;
    for (ShareSplit.Mode mode : ShareSplit.Mode.values()) {
      ShareSplit.Rule rule = new ShareSplit.Rule(mode, mode == ShareSplit.Mode.BY_DATA_TYPE ? TYPES : Map.of(), others);
      Set<String> groups = ShareSplit.groups(rule, files, List.of());
      for (String file : files) {
        List<String> path = ShareSplit.path(file);
        Optional<ShareSplit.Placed> placed = ShareSplit.place(rule, file);
        String expectedGroup = switch (mode) {
          case SINGLE -> ShareSplit.ALL;
          case BY_FOLDER -> path.size() > 1 ? path.get(0) : others;
          case BY_DATA_TYPE -> modelType(path.get(path.size() - 1)).orElse(others);
        };
        if (expectedGroup == null) {
          assertThat(placed).as(file).isEmpty();
          continue;
        }
        assertThat(placed).as(file).isPresent();
        assertThat(placed.get().group()).as(file).isEqualTo(expectedGroup);
        assertThat(groups).contains(expectedGroup);
        // The path on the disk is the cloud path, less the folder that names the group.
        List<String> expectedPath = mode == ShareSplit.Mode.BY_FOLDER && path.size() > 1 ? path.subList(1, path.size()) : path;
        assertThat(placed.get().path()).as(file).isEqualTo(expectedPath);
      }
      if (mode == ShareSplit.Mode.BY_DATA_TYPE) {
        assertThat(groups).containsAll(TYPES.keySet());
      }
    }
  }

  /** The model: the extension after the last dot (not a leading one), any case, first type listing it. */
  private static Optional<String> modelType(String fileName) {
    int dot = fileName.lastIndexOf('.');
    if (dot <= 0) {
      return Optional.empty();
    }
    String extension = fileName.substring(dot + 1);
    for (Map.Entry<String, List<String>> type : TYPES.entrySet()) {
      if (type.getValue().stream().anyMatch(e -> e.equalsIgnoreCase(extension))) {
        return Optional.of(type.getKey());
      }
    }
    return Optional.empty();
  }

  @Test
  void emptyFoldersStayFoldersExceptByDataType() {
    List<String> folders = List.of("Empty", "Photos/2025");
    assertThat(ShareSplit.directories(new ShareSplit.Rule(ShareSplit.Mode.SINGLE, Map.of(), null), folders))
        .containsEntry(ShareSplit.ALL, List.of(List.of("Empty"), List.of("Photos", "2025")));
    assertThat(ShareSplit.directories(new ShareSplit.Rule(ShareSplit.Mode.BY_FOLDER, Map.of(), null), folders))
        .containsEntry("Photos", List.of(List.of("2025"))).doesNotContainKey("Empty");
    assertThat(ShareSplit.groups(new ShareSplit.Rule(ShareSplit.Mode.BY_FOLDER, Map.of(), null), List.of(), folders))
        .containsExactly("Empty", "Photos");
    assertThat(ShareSplit.directories(new ShareSplit.Rule(ShareSplit.Mode.BY_DATA_TYPE, TYPES, null), folders)).isEmpty();
  }

  @Property(tries = 200)
  void aGenerationReadsBackAsWritten(@ForAll long seed) throws Exception {
    Random random = new Random(seed);
    List<Generation.Group> groups = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int g = 0; g < 1 + random.nextInt(4); g++) {
      String name = NAMES[random.nextInt(NAMES.length)] + g;
      if (!seen.add(name)) {
        continue;
      }
      List<Generation.File> files = new ArrayList<>();
      for (int f = 0; f < random.nextInt(6); f++) {
        List<String> path = List.of(NAMES[random.nextInt(NAMES.length)], "file %d ✓ + 100%%.txt".formatted(f));
        files.add(new Generation.File(String.join("/", path), random.nextBoolean() ? "" : "e\"tag " + f,
            Instant.ofEpochMilli(random.nextLong(1L << 42)), new ContentStore.Content("ab" + f, random.nextLong(1L << 40)),
            path));
      }
      groups.add(new Generation.Group(name, "share-x-" + g + "-g1", random.nextLong(1L << 40), random.nextInt(1 << 20),
          files, List.of(new Generation.Skipped("big file ✓.iso", "big file ✓.iso is 5 GiB; FAT32 holds files below 4 GiB"))));
    }
    Generation generation = new Generation("ns.share", random.nextInt(1000), Instant.ofEpochSecond(random.nextInt()),
        groups, random.nextBoolean() ? List.of() : List.of(new Generation.Skipped("a b/c.md", "matches no group")));
    assertThat(Generation.decode(generation.encode(), "test")).isEqualTo(generation);
  }
}
