package dev.remap.e2e;

import dev.remap.engine.share.ShareStatus;
import dev.remap.testkit.Await;
import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.Ports;
import dev.remap.testkit.RemapPaths;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * {@code ./remap share-agent} as its own process, the way the operator is to run it, read and
 * driven only through its HTTP face: /status decoded with the engine's own {@link ShareStatus}
 * decoder, POST /rebase. Cloud credentials go in the environment, as the agent requires.
 */
final class ShareAgentProcess implements AutoCloseable {

  /** A round every 500 ms, a pull every 2 s: the test waits rounds, not the defaults' 1 s and 30 s. */
  static final String RETRY_INTERVAL = "500ms";
  static final String INTERVAL = "2s";

  private final BackgroundProcess process;
  private final URI base;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private ShareAgentProcess(BackgroundProcess process, URI base) {
    this.process = process;
    this.base = base;
  }

  /**
   * Starts the agent of share id on store (its own journal and node id under dir, so that it and
   * {@code remap serve} are two owners handing the VM disks over), for the prefix of bucket on
   * cloud; waits for its first round.
   */
  static ShareAgentProcess start(String store, Path dir, String id, S3ServerProcess cloud, String bucket, String prefix,
      String filesystem, List<String> vms) {
    int port = Ports.free();
    List<String> command = new ArrayList<>(List.of(RemapPaths.root().resolve("remap").toString(), "share-agent",
        "--store", store, "--journal", dir.resolve(id + "-journal").toString(), "--node-id", "agent-" + id,
        "--share-id", id, "--cloud-endpoint", cloud.endpoint().toString(), "--bucket", bucket, "--prefix", prefix,
        "--split", "byFolder", "--filesystem", filesystem, "--interval", INTERVAL, "--retry-interval", RETRY_INTERVAL,
        "--listen", "127.0.0.1:" + port, "--scratch", dir.resolve(id + "-scratch").toString()));
    vms.forEach(vm -> command.addAll(List.of("--vm", vm)));
    BackgroundProcess process = BackgroundProcess.start(Map.of(
        "REMAP_CLOUD_ACCESS_KEY_ID", S3ServerProcess.ACCESS_KEY,
        "REMAP_CLOUD_SECRET_ACCESS_KEY", S3ServerProcess.SECRET_KEY), command.toArray(String[]::new));
    ShareAgentProcess agent = new ShareAgentProcess(process, URI.create("http://127.0.0.1:" + port));
    try {
      process.awaitReady(Duration.ofSeconds(90), () -> agent.get("/status").code() == 200);
    } catch (AssertionError e) {
      process.close();
      throw e;
    }
    return agent;
  }

  /** /status as the agent serves it (for a failing assertion's message). */
  String statusText() {
    Answer response = get("/status");
    return response.code() + " " + response.body();
  }

  ShareStatus status() {
    Answer response = get("/status");
    if (response.code() != 200) {
      throw new AssertionError("GET /status answered " + response.code() + ": " + response.body());
    }
    try {
      return ShareStatus.decode(response.body().getBytes(StandardCharsets.UTF_8), "the agent's /status");
    } catch (IOException e) {
      throw new AssertionError(e.getMessage() + ":\n" + response.body(), e);
    }
  }

  /** Waits until the status satisfies condition (checked every 100 ms); returns that status. */
  ShareStatus await(String what, Duration timeout, Predicate<ShareStatus> condition) {
    AtomicReference<ShareStatus> seen = new AtomicReference<>();
    try {
      Await.until(what, timeout, () -> {
        seen.set(status());
        return condition.test(seen.get());
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; the agent's status:\n" + statusText() + "\nits output:\n"
          + process.output(), e);
    }
    return seen.get();
  }

  /** POST /rebase?vm=NAME: the volumes the VM left behind. */
  List<String> rebase(String vm) {
    Answer response = send(HttpRequest.newBuilder(
        base.resolve("/rebase?vm=" + URLEncoder.encode(vm, StandardCharsets.UTF_8)))
        .POST(HttpRequest.BodyPublishers.noBody()).build());
    if (response.code() != 200) {
      throw new AssertionError("POST /rebase?vm=" + vm + " answered " + response.code() + ": " + response.body());
    }
    return response.body().lines().toList();
  }

  /** The VM's current (not retired) disks in status: group to volume. */
  static Map<String, String> disksOf(ShareStatus status, String vm) {
    Map<String, String> out = new TreeMap<>();
    status.vms().stream().filter(d -> d.vm().equals(vm) && !d.retired()).forEach(d -> out.put(d.group(), d.volume()));
    return out;
  }

  /** The VM's pending uploads in status (the same figure on each of its disks' lines). */
  static long pendingOf(ShareStatus status, String vm) {
    return status.vms().stream().filter(d -> d.vm().equals(vm)).mapToLong(ShareStatus.Vm::pending).max().orElse(0);
  }

  String output() {
    return process.output();
  }

  private Answer get(String path) {
    return send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET().build());
  }

  /** An HTTP answer; code 0 with the reason as the body when none came (not listening yet, or any more). */
  private record Answer(int code, String body) {}

  private Answer send(HttpRequest request) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Answer(response.statusCode(), response.body());
    } catch (IOException e) {
      return new Answer(0, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted talking to the share agent", e);
    }
  }

  @Override
  public void close() {
    process.close();
  }
}
