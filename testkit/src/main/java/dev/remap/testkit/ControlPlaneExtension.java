package dev.remap.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests a running {@link ControlPlane}: declare a parameter of that type in a test or a
 * lifecycle method of a class annotated {@code @ExtendWith(ControlPlaneExtension.class)}. One
 * control plane serves the whole test run (starting one costs seconds); it is stopped when the
 * run ends. Tests that need isolation use their own namespaces.
 */
public final class ControlPlaneExtension implements ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ControlPlaneExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == ControlPlane.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    // The root store outlives every test class, and closes what it holds when the run ends.
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(ControlPlane.class, key -> startInTempDir(), ControlPlane.class);
  }

  private static ControlPlane startInTempDir() {
    try {
      return ControlPlane.start(Files.createTempDirectory("remap-controlplane"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
