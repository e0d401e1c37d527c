package dev.remap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code remap csi} as the node DaemonSet runs it, without sidecars: a real process registers
 * with the kubelet through a socket in the registration folder, answers /healthz from a Probe
 * over its own CSI socket (and fails it, with the reason, once that socket is gone), and removes
 * the registration socket on SIGTERM. Flags that cannot work are refused, naming the flag.
 */
class CsiCommandTest {

  @TempDir Path tmp;
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (Process p : started) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private List<String> command(String mode) {
    return new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "csi", "--mode", mode,
        "--endpoint", "unix://" + tmp.resolve("csi/csi.sock"), "--node-id", "node-a",
        "--store", "file://" + tmp.resolve("store"), "--journal", tmp.resolve("journal").toString(),
        "--state-dir", tmp.resolve("state").toString()));
  }

  private static String get(URI uri) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }

  @Test
  void theNodePluginRegistersItselfAndAnswersHealthzFromItsOwnSocket() throws Exception {
    Files.createDirectories(tmp.resolve("store"));
    Path registry = Files.createDirectories(tmp.resolve("plugins_registry"));
    List<String> command = command("node");
    command.addAll(List.of("--http-address", "127.0.0.1:0", "--kubelet-registration-dir", registry.toString(),
        "--kubelet-csi-endpoint", "/var/lib/kubelet/plugins/csi.remap.dev/csi.sock"));
    Path log = tmp.resolve("csi.log");
    Process csi = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    started.add(csi);
    Matcher http = Pattern.compile("health and metrics on http://127\\.0\\.0\\.1:(\\d+)").matcher("");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!http.reset(Files.readString(log, StandardCharsets.UTF_8)).find()) {
      if (!csi.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("remap csi did not start:\n" + Files.readString(log));
      }
      Thread.sleep(50);
    }
    URI base = URI.create("http://127.0.0.1:" + http.group(1));
    Path registration = registry.resolve("csi.remap.dev-reg.sock");
    assertThat(registration).exists();
    assertThat(get(base.resolve("/healthz"))).isEqualTo("200 ok\n");
    assertThat(get(base.resolve("/metrics"))).contains("remap_staged_volumes 0.0")
        .contains("remap_kubelet_registered 0.0");

    Files.delete(tmp.resolve("csi/csi.sock"));
    assertThat(get(base.resolve("/healthz")))
        .startsWith("500 the CSI Probe over " + tmp.resolve("csi/csi.sock") + " failed: UNAVAILABLE");

    csi.destroy(); // SIGTERM, as the kubelet stops the pod
    assertThat(csi.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(registration).doesNotExist();
  }

  @Test
  void flagsThatCannotWorkAreRefusedNamingTheFlag() {
    assertThat(refusal("--mode", "controller", "--kubelet-registration-dir", tmp.toString()))
        .contains("--kubelet-registration-dir").contains("--mode node");
    assertThat(refusal("--mode", "node", "--kubelet-registration-dir", tmp.toString(), "--kubelet-csi-endpoint",
        "tcp://10.0.0.1:1")).contains("--kubelet-csi-endpoint");
    assertThat(refusal("--mode", "node", "--kubelet-csi-endpoint", "/csi/csi.sock"))
        .contains("--kubelet-csi-endpoint").contains("--kubelet-registration-dir");
    assertThat(refusal("--mode", "node", "--http-address", "localhost")).contains("--http-address");
  }

  /** Runs `remap csi` in-process with flags that must be refused; returns its error. */
  private String refusal(String... flags) {
    List<String> args = new ArrayList<>(List.of("csi", "--endpoint", "unix://" + tmp.resolve("csi.sock"),
        "--node-id", "node-a", "--store", "file://" + tmp.resolve("store"), "--journal", tmp.resolve("j").toString()));
    args.addAll(List.of(flags));
    StringWriter err = new StringWriter();
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    assertThat(cli.execute(args.toArray(String[]::new))).as(err.toString()).isEqualTo(1);
    return err.toString();
  }
}
