package dev.remap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code remap serve} as a real process, driven by real clients: flushed writes survive SIGKILL
 * of the server, SIGTERM stops it cleanly, an ext4 filesystem made through nbdfuse and a loop
 * device reads back through a fresh server process, and TCP is loopback-only unless TLS is on.
 */
class ServeCommandTest {

  @TempDir Path tmp;
  private final List<Process> started = new ArrayList<>();
  private final List<Runnable> cleanups = new ArrayList<>();

  @AfterEach
  void stopEverything() throws Exception {
    for (int i = cleanups.size() - 1; i >= 0; i--) {
      cleanups.get(i).run();
    }
    for (Process p : started) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** A started `remap serve`, and the TCP port it printed (or -1). */
  private record Server(Process process, Path log, int port) {}

  private String store() {
    return "file://" + tmp.resolve("store");
  }

  private Path socket() {
    return tmp.resolve("nbd.sock");
  }

  private String uri(String export) {
    return "nbd+unix:///" + export + "?socket=" + socket();
  }

  private int cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--store=" + store());
    all.add("--journal=" + tmp.resolve("journal"));
    StringWriter err = new StringWriter();
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(all.toArray(String[]::new));
    lastError = err.toString();
    return code;
  }

  private String lastError = "";

  private Server serve(String... extra) throws Exception {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
        "--store", store(), "--journal", tmp.resolve("journal").toString(), "--socket", socket().toString()));
    command.addAll(List.of(extra));
    Path log = Files.createTempFile(tmp, "serve", ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    started.add(process);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      String out = Files.readString(log, StandardCharsets.UTF_8);
      if (out.contains("serving ")) {
        Matcher port = Pattern.compile("tcp(\\+tls)?:127\\.0\\.0\\.1:(\\d+)").matcher(out);
        return new Server(process, log, port.find() ? Integer.parseInt(port.group(2)) : -1);
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("remap serve did not start:\n" + out);
      }
      Thread.sleep(50);
    }
  }

  /** Runs a command to completion; fails with its output unless it exits 0. */
  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", command) + " exited " + p.exitValue() + ":\n" + text);
    }
    return text;
  }

  @Test
  void flushedAndFuaWritesSurviveSigkillOfTheServer() throws Exception {
    assertThat(cli("volume", "create", "vm1", "--size", "64M")).isZero();
    Server first = serve();
    run("qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 4M", "-c", "write -P 0xa5 4M 1M", "-c", "flush",
        "-c", "write -f -P 0x33 8M 64k", uri("vm1"));
    first.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no shutdown hook runs

    serve();
    String out = run("qemu-io", "-f", "raw", "-c", "read -P 0x5a 0 4M", "-c", "read -P 0xa5 4M 1M",
        "-c", "read -P 0x33 8M 64k", "-c", "read -P 0 9M 1M", uri("vm1"));
    assertThat(out).doesNotContain("Pattern verification failed");
  }

  @Test
  void sigtermFinishesClosesTheVolumesAndRemovesTheSocket() throws Exception {
    assertThat(cli("volume", "create", "vm1", "--size", "16M")).isZero();
    Server server = serve();
    run("qemu-io", "-f", "raw", "-c", "write -P 7 0 1M", uri("vm1"));
    server.process().destroy(); // SIGTERM
    assertThat(server.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(server.process().exitValue()).isEqualTo(143);
    assertThat(socket()).doesNotExist();
    // The volume is free again: its lock went with the server.
    assertThat(cli("volume", "delete", "vm1")).as(lastError).isZero();
  }

  @Test
  void metricsCountTheBytesQemuIoMovedAndHealthzSeesTheSocketGo() throws Exception {
    assertThat(cli("volume", "create", "vm1", "--size", "16M")).isZero();
    Server server = serve("--http-address", "127.0.0.1:0");
    Matcher http = Pattern.compile("health and metrics on http://127\\.0\\.0\\.1:(\\d+)")
        .matcher(Files.readString(server.log()));
    assertThat(http.find()).as("the address in the serving line").isTrue();
    URI base = URI.create("http://127.0.0.1:" + http.group(1));
    assertThat(get(base.resolve("/healthz"))).isEqualTo("200 ok\n");

    run("qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 4M", "-c", "write -P 0xa5 4M 1M", "-c", "flush",
        "-c", "read -P 0x5a 0 1M", uri("vm1"));
    String metrics = get(base.resolve("/metrics"));
    assertThat(metrics).startsWith("200 ");
    assertThat(sample(metrics, "remap_request_bytes_total{kind=\"write\",volume=\"vm1\"}")).isEqualTo(5 << 20);
    assertThat(sample(metrics, "remap_requests_total{kind=\"write\",volume=\"vm1\"}")).isEqualTo(2);
    assertThat(sample(metrics, "remap_request_bytes_total{kind=\"read\",volume=\"vm1\"}")).isEqualTo(1 << 20);
    assertThat(sample(metrics, "remap_request_duration_seconds_count{kind=\"flush\",volume=\"vm1\"}"))
        .isGreaterThanOrEqualTo(1);
    assertThat(metrics).contains("remap_store_requests_total{kind=\"put\",store=\"" + store() + "\"}");

    Files.delete(socket());
    assertThat(get(base.resolve("/healthz"))).isEqualTo("500 the NBD socket " + socket() + " is gone\n");
  }

  /** GET, as a probe or a scrape would: "STATUS BODY". */
  private static String get(URI uri) throws Exception {
    java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(uri).timeout(java.time.Duration.ofSeconds(10)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }

  /** The value of one series in a Prometheus text answer, or NaN. */
  private static double sample(String text, String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    return Double.NaN;
  }

  @Test
  void tcpIsLoopbackOnlyUnlessTlsIsOn() {
    assertThat(cli("serve", "--socket", socket().toString(), "--listen", "0.0.0.0:0")).isEqualTo(1);
    assertThat(lastError).contains("without TLS").contains("loopback");
    assertThat(cli("serve", "--listen", "127.0.0.1")).isEqualTo(1);
    assertThat(lastError).contains("HOST:PORT");
    assertThat(cli("serve")).isEqualTo(1);
    assertThat(lastError).contains("--socket");
    assertThat(cli("serve", "--socket", socket().toString(), "--http-address", "9808")).isEqualTo(1);
    assertThat(lastError).contains("--http-address");
  }

  @Test
  void tlsOnTcpServesQemuAndNbdinfoWithCertificatesAndRefusesPlainClients() throws Exception {
    Path pki = Files.createDirectories(tmp.resolve("pki"));
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", pki.resolve("server-key.pem").toString(),
        "-out", pki.resolve("server-cert.pem").toString());
    Files.copy(pki.resolve("server-cert.pem"), pki.resolve("ca-cert.pem"));
    assertThat(cli("volume", "create", "vm1", "--size", "16M")).isZero();
    Server server = serve("--listen", "127.0.0.1:0", "--tls-cert", pki.resolve("server-cert.pem").toString(),
        "--tls-key", pki.resolve("server-key.pem").toString());
    assertThat(server.port()).isPositive();

    String tls = "nbds://127.0.0.1:" + server.port() + "/vm1?tls-certificates=" + pki;
    assertThat(run("nbdinfo", tls)).contains("with TLS").contains("export-size: " + (16 << 20));
    String qemu = "driver=nbd,host=127.0.0.1,port=" + server.port() + ",export=vm1,tls-creds=tls0";
    String object = "tls-creds-x509,id=tls0,endpoint=client,dir=" + pki;
    run("qemu-io", "--object", object, "--image-opts", "-c", "write -P 0x6b 0 3M", "-c", "flush", qemu);
    String read = run("qemu-io", "--object", object, "--image-opts", "-c", "read -P 0x6b 0 3M", qemu);
    assertThat(read).doesNotContain("Pattern verification failed");

    Process plain = new ProcessBuilder("nbdinfo", "nbd://127.0.0.1:" + server.port() + "/vm1")
        .redirectErrorStream(true).start();
    String refused = new String(plain.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(plain.waitFor()).isNotZero();
    assertThat(refused).containsIgnoringCase("TLS");
    // The Unix socket is local and stays plain.
    assertThat(run("nbdinfo", "--size", uri("vm1")).trim()).isEqualTo(Long.toString(16 << 20));
  }

  @Test
  void ext4MadeThroughNbdfuseAndALoopDeviceReadsBackThroughAFreshServer() throws Exception {
    assertThat(cli("volume", "create", "vm1", "--size", "128M")).isZero();
    Path mnt = Files.createDirectories(tmp.resolve("fuse"));
    Path fs = Files.createDirectories(tmp.resolve("fs"));

    Server first = serve();
    String loop = attach(mnt);
    run("mkfs.ext4", "-q", "-F", loop);
    run("mount", loop, fs.toString());
    cleanups.add(() -> quiet("umount", fs.toString()));
    byte[] big = new byte[8 << 20];
    new java.util.Random(3).nextBytes(big);
    Files.write(fs.resolve("big.bin"), big);
    Files.writeString(fs.resolve("hello.txt"), "hello from remap\n");
    Files.createDirectories(fs.resolve("dir/sub"));
    Files.writeString(fs.resolve("dir/sub/note.txt"), "nested\n");
    run("umount", fs.toString());
    detach(loop, mnt);
    first.process().destroy();
    assertThat(first.process().waitFor(60, TimeUnit.SECONDS)).isTrue();

    serve();
    String again = attach(mnt);
    run("e2fsck", "-f", "-n", again);
    run("mount", "-o", "ro", again, fs.toString());
    assertThat(Files.readAllBytes(fs.resolve("big.bin"))).isEqualTo(big);
    assertThat(Files.readString(fs.resolve("hello.txt"))).isEqualTo("hello from remap\n");
    assertThat(Files.readString(fs.resolve("dir/sub/note.txt"))).isEqualTo("nested\n");
    run("umount", fs.toString());
    detach(again, mnt);
  }

  /** nbdfuse exposes the export as mnt/disk; losetup makes a block device of it. */
  private String attach(Path mnt) throws Exception {
    Process fuse = new ProcessBuilder("nbdfuse", mnt.resolve("disk").toString(), uri("vm1"))
        .redirectErrorStream(true).redirectOutput(tmp.resolve("nbdfuse.log").toFile()).start();
    started.add(fuse);
    cleanups.add(() -> quiet("fusermount3", "-u", mnt.toString()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(mnt.resolve("disk"))) {
      if (!fuse.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("nbdfuse did not start: " + Files.readString(tmp.resolve("nbdfuse.log")));
      }
      Thread.sleep(50);
    }
    String loop = run("losetup", "--find", "--show", mnt.resolve("disk").toString()).trim();
    cleanups.add(() -> quiet("losetup", "-d", loop));
    return loop;
  }

  private void detach(String loop, Path mnt) throws Exception {
    run("losetup", "-d", loop);
    run("fusermount3", "-u", mnt.toString());
  }

  private static void quiet(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      p.waitFor(30, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException ignored) {
      // Best-effort cleanup after a failed test.
    }
  }
}
