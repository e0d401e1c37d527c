package dev.remap.operator.swap;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Stands for a CSI node plugin's HTTP port in tests: /metrics on 127.0.0.1 with the content type
 * and text the plugin's HttpEndpoint serves. The text is {@link #captured()}, the plugin's real
 * rendering of two swap disks, or what a test makes of it.
 */
public final class NodeMetricsServer implements AutoCloseable {

  /** The two disks of the captured text and their counters, as the engine counted them. */
  public static final String VM1 = "swap/vms/vm1-swap";
  public static final SwapFigures VM1_FIGURES = new SwapFigures(8192, 32768, 14, 12, 26, 0, 24, 12, 2, 106_496);
  public static final String VM2 = "swap/vms/vm2-swap";
  public static final SwapFigures VM2_FIGURES = new SwapFigures(16_388_096, 0, 4000, 0, 4000, 0, 0, 0, 0, 16_384_000);

  private final HttpServer http;
  private volatile Supplier<String> text;
  private boolean stopped;

  private NodeMetricsServer(HttpServer http, Supplier<String> text) {
    this.http = http;
    this.text = text;
  }

  /** Serves text at a free port of 127.0.0.1. */
  public static NodeMetricsServer start(Supplier<String> text) throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    NodeMetricsServer server = new NodeMetricsServer(http, text);
    http.createContext("/metrics", exchange -> {
      byte[] body = server.text.get().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    http.start();
    return server;
  }

  public int port() {
    return http.getAddress().getPort();
  }

  /** From now on serves this text. */
  public void serve(Supplier<String> next) {
    text = next;
  }

  /** The node plugin's /metrics as captured (test resource swap/node-plugin-metrics.txt). */
  public static String captured() {
    try (InputStream in = NodeMetricsServer.class.getResourceAsStream("/swap/node-plugin-metrics.txt")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The captured text without the lines of one disk: the node after it unstaged that disk. */
  public static String capturedWithout(String disk) {
    return captured().lines().filter(l -> !l.contains("disk=\"" + disk + "\""))
        .collect(Collectors.joining("\n", "", "\n"));
  }

  /** The node plugin goes away: the port stops answering. Idempotent, so a test may stop it early. */
  @Override
  public void close() {
    if (!stopped) {
      stopped = true;
      http.stop(0);
    }
  }
}
