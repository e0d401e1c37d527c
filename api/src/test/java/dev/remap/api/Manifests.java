package dev.remap.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small YAML manifests of the three kinds for tests that talk to a real API server with kubectl. */
final class Manifests {

  private Manifests() {}

  static String of(String kind, String namespace, String name, String spec) {
    return "apiVersion: " + RemapApi.API_VERSION + "\n"
        + "kind: " + kind + "\n"
        + "metadata: {name: " + name + ", namespace: " + namespace + "}\n"
        + "spec: " + spec + "\n";
  }

  static Path write(Path dir, String name, String yaml) {
    try {
      return Files.writeString(dir.resolve(name + ".yaml"), yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
