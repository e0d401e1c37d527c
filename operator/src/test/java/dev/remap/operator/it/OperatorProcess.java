package dev.remap.operator.it;

import dev.remap.testkit.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The packaged operator (target/quarkus-app/quarkus-run.jar) running as its own process against
 * a kubeconfig, with its HTTP port (health, metrics) on 127.0.0.1. {@link #kill()} is SIGKILL: a
 * crash, with no shutdown hook run.
 */
final class OperatorProcess implements AutoCloseable {

  private final Process process;
  private final Path log;
  private final int port;
  private final String identity;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private OperatorProcess(Process process, Path log, int port, String identity) {
    this.process = process;
    this.log = log;
    this.port = port;
    this.identity = identity;
  }

  static OperatorProcess start(Path kubeconfig, String identity) {
    return start(kubeconfig, identity, Map.of());
  }

  /** With extra environment (e.g. REMAP_STORE and REMAP_JOB_IMAGE for the transfer Jobs). */
  static OperatorProcess start(Path kubeconfig, String identity, Map<String, String> extraEnv) {
    String app = System.getProperty("remap.operator.app");
    if (app == null || !Files.isRegularFile(Path.of(app))) {
      throw new IllegalStateException("the packaged operator is missing (" + app + "): run `mvn -pl operator -am package` first");
    }
    try {
      int port = Ports.free();
      Path log = Files.createTempFile("remap-operator-" + identity + "-", ".log");
      String java = ProcessHandle.current().info().command().orElse("java");
      ProcessBuilder pb = new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", app))
          .redirectErrorStream(true).redirectOutput(log.toFile());
      Map<String, String> env = pb.environment();
      env.put("KUBECONFIG", kubeconfig.toString());
      env.put("REMAP_OPERATOR_HTTP_PORT", String.valueOf(port));
      env.put("REMAP_OPERATOR_HTTP_HOST", "127.0.0.1");
      env.put("REMAP_OPERATOR_IDENTITY", identity);
      env.put("POD_NAMESPACE", "remap-system");
      env.putAll(extraEnv);
      return new OperatorProcess(pb.start(), log, port, identity);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String identity() {
    return identity;
  }

  /** GET on the operator's HTTP port; status code and body, or -1 when nothing answers. */
  HttpResponse<String> get(String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Waits for /q/health/ready to answer 200 (controllers started and, with leader election, leading). */
  OperatorProcess awaitReady(Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the operator exited with " + process.exitValue() + ":\n" + output());
      }
      HttpResponse<String> r = get("/q/health/ready");
      if (r != null && r.statusCode() == 200) {
        return this;
      }
      sleep(200);
    }
    throw new IllegalStateException("the operator was not ready within " + timeout + ":\n" + output());
  }

  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL, as a crash or an OOM kill would. */
  void kill() {
    process.destroyForcibly();
    waitFor();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      waitFor();
    }
    // The log only matters while a test can still show it in a failure message.
    log.toFile().deleteOnExit();
  }

  private void waitFor() {
    try {
      if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
