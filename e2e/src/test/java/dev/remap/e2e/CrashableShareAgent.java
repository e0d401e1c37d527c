package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.share.ShareStatus;
import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.Ports;
import dev.remap.testkit.RemapPaths;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code ./remap share-agent} started without waiting for anything, so that a test can SIGKILL
 * it at any moment: while the JVM starts, in its first round, between rounds. Unlike
 * {@link ShareAgentProcess} (which waits for the first round) it takes the split as an argument
 * and runs a round every {@value #RETRY_INTERVAL}, so that kills land inside rounds often.
 * Every start uses the same journal, node id and scratch folder, as a restarted pod would.
 */
final class CrashableShareAgent implements AutoCloseable {

  static final String RETRY_INTERVAL = "200ms";

  private final BackgroundProcess process;
  private final URI base;
  private final long startedNanos = System.nanoTime();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

  private CrashableShareAgent(BackgroundProcess process, URI base) {
    this.process = process;
    this.base = base;
  }

  /** The settings every start of the share's agent gets. */
  record Settings(String store, Path dir, String id, S3ServerProcess cloud, String bucket, String prefix, String split,
      String interval, List<String> vms) {}

  /** Starts the agent and returns at once (before the JVM is even up). */
  static CrashableShareAgent start(Settings s) {
    int port = Ports.free();
    List<String> command = new ArrayList<>(List.of(RemapPaths.root().resolve("remap").toString(), "share-agent",
        "--store", s.store(), "--journal", s.dir().resolve(s.id() + "-journal").toString(), "--node-id", "agent-" + s.id(),
        "--share-id", s.id(), "--cloud-endpoint", s.cloud().endpoint().toString(), "--bucket", s.bucket(),
        "--prefix", s.prefix(), "--split", s.split(), "--filesystem", "ext4", "--free-space", "16M",
        "--interval", s.interval(), "--retry-interval", RETRY_INTERVAL, "--listen", "127.0.0.1:" + port,
        "--scratch", s.dir().resolve(s.id() + "-scratch").toString()));
    s.vms().forEach(vm -> command.addAll(List.of("--vm", vm)));
    BackgroundProcess process = BackgroundProcess.start(Map.of(
        "REMAP_CLOUD_ACCESS_KEY_ID", S3ServerProcess.ACCESS_KEY,
        "REMAP_CLOUD_SECRET_ACCESS_KEY", S3ServerProcess.SECRET_KEY), command.toArray(String[]::new));
    // The launcher script execs java: once it has, the process started is the JVM itself, so
    // SIGKILL reaches the agent and not a shell that would leave it running. Kills are timed
    // from then on.
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!javaRuns(process.pid()) && process.isAlive() && System.nanoTime() < deadline) {
      sleep(2);
    }
    assertThat(javaRuns(process.pid())).as("./remap exec'd java (pid %d):%n%s", process.pid(), process.output())
        .isTrue();
    return new CrashableShareAgent(process, URI.create("http://127.0.0.1:" + port));
  }

  private static boolean javaRuns(long pid) {
    return ProcessHandle.of(pid).flatMap(h -> h.info().command()).orElse("").endsWith("/java");
  }

  long pid() {
    return process.pid();
  }

  long aliveMillis() {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** The last round's status, or empty while the agent has none to serve (starting, or 503 before its first round). */
  Optional<ShareStatus> status() {
    try {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve("/status"))
          .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      if (response.statusCode() != 200) {
        return Optional.empty();
      }
      return Optional.of(ShareStatus.decode(response.body().getBytes(StandardCharsets.UTF_8), "the agent's /status"));
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted talking to the share agent", e);
    }
  }

  /** SIGKILL to the agent's JVM, as a crash or an OOM kill would; returns once it is gone. */
  void kill() {
    process.kill();
    assertThat(process.isAlive()).as("the agent after SIGKILL").isFalse();
  }

  String output() {
    return process.output();
  }

  @Override
  public void close() {
    process.close();
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
