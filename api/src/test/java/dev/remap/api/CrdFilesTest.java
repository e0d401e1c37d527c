package dev.remap.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed CRD YAML (crds/ and the Helm chart's helm/remap/crds/) is exactly what the CRD
 * generator makes from this module's classes, so that what users install never drifts from
 * what the operator was built against. Run with {@code -Dremap.updateCrds=true} (or
 * {@code api/update-crds.sh}) to rewrite the committed files instead of failing.
 */
class CrdFilesTest {

  /** Generated names (by the crd-generator-maven-plugin) mapped to committed file names. */
  static final Map<String, String> FILES = Map.of(
      "virtualdisks.remap.dev-v1.yml", "virtualdisks.remap.dev.yaml",
      "logicaldiskshares.remap.dev-v1.yml", "logicaldiskshares.remap.dev.yaml",
      "vmmemoryswaps.remap.dev-v1.yml", "vmmemoryswaps.remap.dev.yaml");

  static final List<String> DIRECTORIES = List.of("crds", "helm/remap/crds");

  static final String HEADER = "# Generated from the classes of api/ by the build; do not edit.\n"
      + "# Refresh with: api/update-crds.sh\n";

  /** The generated CRDs, committed file name to content (with the header). */
  static Map<String, String> generated() throws IOException {
    Map<String, String> result = new TreeMap<>();
    for (Map.Entry<String, String> e : FILES.entrySet()) {
      String resource = "META-INF/fabric8/" + e.getKey();
      try (InputStream in = CrdFilesTest.class.getClassLoader().getResourceAsStream(resource)) {
        assertThat(in).as("the CRD generator wrote %s (crd-generator-maven-plugin in api/pom.xml)", resource).isNotNull();
        String yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        // The generator's own first line is a comment; ours says how to refresh the file.
        yaml = yaml.startsWith("#") ? yaml.substring(yaml.indexOf('\n') + 1) : yaml;
        result.put(e.getValue(), HEADER + yaml);
      }
    }
    return result;
  }

  @Test
  void committedCrdsMatchTheGeneratedOnes() throws IOException {
    boolean update = Boolean.getBoolean("remap.updateCrds");
    Map<String, String> generated = generated();
    List<String> drift = new ArrayList<>();
    for (String dir : DIRECTORIES) {
      Path folder = RemapPaths.root().resolve(dir);
      if (update) {
        Files.createDirectories(folder);
      }
      for (Map.Entry<String, String> e : generated.entrySet()) {
        Path file = folder.resolve(e.getKey());
        String committed = Files.exists(file) ? Files.readString(file) : null;
        if (!e.getValue().equals(committed)) {
          if (update) {
            Files.writeString(file, e.getValue());
          } else {
            drift.add(dir + "/" + e.getKey() + (committed == null ? " is missing" : " differs from the generated CRD"));
          }
        }
      }
      try (Stream<Path> files = Files.exists(folder) ? Files.list(folder) : Stream.empty()) {
        for (Path stale : files.filter(f -> !generated.containsKey(f.getFileName().toString())).toList()) {
          if (update) {
            Files.delete(stale);
          } else {
            drift.add(dir + "/" + stale.getFileName() + " is not generated from api/ (a removed or renamed kind?)");
          }
        }
      }
    }
    assertThat(drift)
        .as("the committed CRDs drifted from api/; run api/update-crds.sh and commit the result")
        .isEmpty();
  }
}
