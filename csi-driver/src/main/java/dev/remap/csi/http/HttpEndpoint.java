package dev.remap.csi.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP side of a Remap process ({@code remap csi}, {@code remap serve}), in place of the
 * livenessprobe sidecar: {@code GET /healthz} answers 200 "ok", or 500 with a one-line reason,
 * from the process's own {@link Health} check; {@code GET /metrics} is the registry in
 * Prometheus' text format. The JDK's HTTP server: two read-only routes need no web framework.
 *
 * <p>Two threads, so that a health check waiting for its probe (up to 2 s) never holds up a
 * scrape, and a scrape never holds up the kubelet's probe.
 */
public final class HttpEndpoint implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(HttpEndpoint.class.getName());
  private static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

  /** A health check: empty when healthy, else why not, in one line. */
  @FunctionalInterface
  public interface Health {
    Optional<String> problem();
  }

  private final HttpServer server;
  private final ExecutorService threads;

  private HttpEndpoint(HttpServer server, ExecutorService threads) {
    this.server = server;
    this.threads = threads;
  }

  /** A registry for the process's meters, with the JVM's memory, threads, CPU and uptime in it. */
  public static PrometheusMeterRegistry registry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return registry;
  }

  /**
   * Listens on address and serves. Empty when a best-effort address is taken (logged); an
   * address that was asked for and cannot be had fails, naming the flag.
   */
  public static Optional<HttpEndpoint> start(HttpAddress address, PrometheusMeterRegistry registry, Health health)
      throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(address.address(), 16);
    } catch (BindException e) {
      String why = "cannot listen on " + describe(address.address()) + " for /healthz and /metrics: " + e.getMessage();
      if (address.bestEffort()) {
        LOG.warning(() -> why + "; running without them (give " + HttpAddress.FLAG + " HOST:PORT or none)");
        return Optional.empty();
      }
      throw new IOException(HttpAddress.FLAG + " " + describe(address.address()) + ": " + why, e);
    }
    server.createContext("/healthz", exchange -> answer(exchange, "/healthz", () -> healthz(health)));
    server.createContext("/metrics", exchange -> answer(exchange, "/metrics",
        () -> new Reply(200, TEXT_FORMAT, registry.scrape())));
    server.createContext("/", exchange -> answer(exchange, "/", () -> new Reply(404, "text/plain; charset=utf-8",
        "not found: try /healthz or /metrics\n")));
    ExecutorService threads = Executors.newFixedThreadPool(2, runnable -> {
      Thread thread = new Thread(runnable, "remap-http");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(threads);
    server.start();
    HttpEndpoint endpoint = new HttpEndpoint(server, threads);
    LOG.info(() -> "health and metrics on http://" + describe(endpoint.address()) + "/healthz and /metrics");
    return Optional.of(endpoint);
  }

  /** The bound address (its port when 0 was asked for). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  private record Reply(int status, String contentType, String body) {}

  private static Reply healthz(Health health) {
    Optional<String> problem;
    try {
      problem = health.problem();
    } catch (RuntimeException e) {
      problem = Optional.of("the health check failed: " + e);
    }
    return problem.map(p -> new Reply(500, "text/plain; charset=utf-8", p.replace('\n', ' ') + "\n"))
        .orElse(new Reply(200, "text/plain; charset=utf-8", "ok\n"));
  }

  private static void answer(HttpExchange exchange, String path, java.util.function.Supplier<Reply> route)
      throws IOException {
    try {
      String method = exchange.getRequestMethod();
      Reply reply;
      if (!exchange.getRequestURI().getPath().equals(path) && !path.equals("/")) {
        reply = new Reply(404, "text/plain; charset=utf-8", "not found: try /healthz or /metrics\n");
      } else if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        reply = new Reply(405, "text/plain; charset=utf-8", "only GET and HEAD\n");
      } else {
        reply = route.get();
      }
      byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", reply.contentType());
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(reply.status(), -1);
        return;
      }
      exchange.sendResponseHeaders(reply.status(), body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } catch (IOException | RuntimeException e) {
      // A client that went away mid-answer: nothing to tell it; the next request is served as usual.
      LOG.log(Level.FINE, "answering " + path + " failed: " + e.getMessage(), e);
    } finally {
      exchange.close();
    }
  }

  private static String describe(InetSocketAddress address) {
    String host = address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
