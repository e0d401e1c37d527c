package dev.remap.operator.swap;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The scrape of a node plugin's /metrics against a real HTTP server: the disk's counters, a node
 * without the disk, and nodes that fail in the ways a reconcile must not wait on or stumble over.
 * (Finding the pod is tested on a real API server by VmMemorySwapIT.)
 */
class NodeSwapFiguresTest {

  private static final String DISK = NodeMetricsServer.VM1;
  /** The scrape needs no API server. */
  private final NodeSwapFigures source = new NodeSwapFigures(null, "remap-system");

  private static URI metrics(int port) {
    return URI.create("http://127.0.0.1:" + port + "/metrics");
  }

  @Test
  void theNodesCountersOfTheDiskAndNothingForADiskItDoesNotServe() throws Exception {
    try (NodeMetricsServer node = NodeMetricsServer.start(NodeMetricsServer::captured)) {
      URI uri = metrics(node.port());
      assertThat(source.scrape(uri, NodeMetricsServer.VM1))
          .isEqualTo(SwapReading.served(NodeMetricsServer.VM1_FIGURES));
      assertThat(source.scrape(uri, NodeMetricsServer.VM2))
          .isEqualTo(SwapReading.served(NodeMetricsServer.VM2_FIGURES));
      assertThat(source.scrape(uri, "swap/vms/gone")).isEqualTo(SwapReading.notServed());
    }
  }

  @Test
  void aNodeThatDoesNotListenOrAnswersAnErrorIsUnreachable() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    SwapReading r = source.scrape(metrics(closed), DISK);
    assertThat(r.figures()).isEmpty();
    assertThat(r.unreachable()).contains("127.0.0.1:" + closed);

    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
    http.createContext("/", e -> {
      e.sendResponseHeaders(503, -1);
      e.close();
    });
    http.start();
    try {
      assertThat(source.scrape(metrics(http.getAddress().getPort()), DISK).unreachable()).contains("HTTP 503");
    } finally {
      http.stop(0);
    }
  }

  @Test
  void aNodeThatHangsIsGivenUpWithinTheTimeout() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
    http.createContext("/", e -> {
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
      e.close();
    });
    http.start();
    try {
      Instant start = Instant.now();
      SwapReading r = source.scrape(metrics(http.getAddress().getPort()), DISK);
      Duration took = Duration.between(start, Instant.now());
      assertThat(r.unreachable()).isNotNull();
      assertThat(took).isGreaterThanOrEqualTo(NodeSwapFigures.TIMEOUT).isLessThan(Duration.ofSeconds(5));
    } finally {
      // The server's one thread is the handler's: let it go so that the server can stop.
      release.countDown();
      http.stop(0);
    }
  }

  @Test
  void metricsThatAreNotUnderstoodAreUnreachableNotZeros() throws Exception {
    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
    byte[] body = ("remap_swap_swap_outs_total{disk=\"" + DISK + "\"} 3.0\n").getBytes();
    http.createContext("/metrics", e -> {
      e.sendResponseHeaders(200, body.length);
      e.getResponseBody().write(body);
      e.close();
    });
    http.start();
    try {
      SwapReading r = source.scrape(metrics(http.getAddress().getPort()), DISK);
      assertThat(r.figures()).isEmpty();
      assertThat(r.unreachable()).contains("lack remap_swap_resident_bytes");
    } finally {
      http.stop(0);
    }
  }
}
