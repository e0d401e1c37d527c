package dev.remap.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.operator.disk.VirtualDiskReconciler;
import dev.remap.operator.transfer.RemapStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operator reads Remap's store and never writes it: of the engine it may use the read-only
 * catalog ({@code dev.remap.engine.catalog}), the values the catalog returns, and the store URI
 * parser (JobSettings takes a file store's folder from it); nothing else, so no store, volume or
 * volume manager (docs/ARCHITECTURE.md, module map). The operator's tests may use the whole
 * engine: they set a store up as the CSI driver would.
 *
 * <p>Checked on the compiled classes rather than the imports, so a fully qualified name, a field,
 * a lambda or a generic argument is seen too.
 */
class EngineBoundaryTest {

  private static final String CATALOG = "dev/remap/engine/catalog/";
  /** Pure values: no I/O, nothing that reaches a store. */
  private static final Set<String> VALUES = Set.of("dev/remap/engine/volume/Usage",
      "dev/remap/engine/volume/SpaceReport", "dev/remap/engine/store/StoreUri",
      // A share agent's status as it sends it (the text codec and its values; Skipped is Generation's).
      "dev/remap/engine/share/ShareStatus", "dev/remap/engine/share/Generation");
  /**
   * An engine class name as a class file holds it: internal form in the constant pool (class
   * entries, descriptors, signatures), or dotted in a string (a name given to reflection). Class
   * names are ASCII, which modified UTF-8 stores byte for byte, and each constant-pool string is
   * followed by a tag byte (1 to 20) that ends the match, so the raw bytes can be searched without
   * parsing the pool; a string constant that merely mentions an engine class counts too, which
   * errs on the strict side.
   */
  private static final Pattern ENGINE = Pattern.compile("dev/remap/engine/[\\w/$]+|dev\\.remap\\.engine\\.[\\w.$]+");

  @Test
  void operatorClassesUseOnlyTheCatalogAndItsValues() throws Exception {
    Path classes = Path.of(VirtualDiskReconciler.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    assertThat(classes).as("the operator's compiled classes").isDirectory();
    Map<String, Set<String>> offending = new TreeMap<>();
    List<Path> scanned;
    try (Stream<Path> files = Files.walk(classes)) {
      scanned = files.filter(p -> p.toString().endsWith(".class")).toList();
    }
    for (Path file : scanned) {
      Set<String> bad = forbidden(engineReferences(Files.readAllBytes(file)));
      if (!bad.isEmpty()) {
        offending.put(classes.relativize(file).toString(), bad);
      }
    }
    assertThat(scanned).as("the scan reached the operator's classes")
        .contains(classes.resolve("dev/remap/operator/disk/VirtualDiskReconciler.class"));
    assertThat(offending).as("operator classes using the engine beyond its read-only catalog and the values "
        + "it returns (read the store through dev.remap.engine.catalog.StoreCatalog)").isEmpty();
  }

  /** The check itself: it must see the references a class makes, and object to a writer's. */
  @Test
  void theCheckSeesReferencesAndObjectsToTheWritePath() throws IOException {
    assertThat(engineReferences(classBytes(RemapStore.class.getName())))
        .contains("dev/remap/engine/catalog/StoreCatalog");
    assertThat(forbidden(engineReferences(classBytes("dev.remap.engine.volume.VolumeManager"))))
        .contains("dev/remap/engine/store/ObjectStore", "dev/remap/engine/volume/Volume")
        .doesNotContain("dev/remap/engine/volume/Usage", "dev/remap/engine/volume/SpaceReport");
    assertThat(forbidden(Set.of("dev/remap/engine/store/StoreUri$File", "dev/remap/engine/catalog/StoreCatalog",
        "dev/remap/engine/store/ObjectStores"))).containsExactly("dev/remap/engine/store/ObjectStores");
  }

  /** The engine classes a class file names, in internal form (a/b/C, nested a/b/C$D). */
  static Set<String> engineReferences(byte[] classFile) {
    Matcher m = ENGINE.matcher(new String(classFile, StandardCharsets.ISO_8859_1));
    Set<String> found = new TreeSet<>();
    while (m.find()) {
      found.add(m.group().replace('.', '/'));
    }
    return found;
  }

  /** Those of the references the operator may not use. */
  static Set<String> forbidden(Set<String> references) {
    return references.stream().filter(r -> {
      String outer = r.contains("$") ? r.substring(0, r.indexOf('$')) : r;
      return !r.startsWith(CATALOG) && !VALUES.contains(outer);
    }).collect(Collectors.toCollection(TreeSet::new));
  }

  private static byte[] classBytes(String className) throws IOException {
    try (InputStream in = EngineBoundaryTest.class.getClassLoader()
        .getResourceAsStream(className.replace('.', '/') + ".class")) {
      assertThat(in).as(className + " on the test classpath").isNotNull();
      return in.readAllBytes();
    }
  }
}
