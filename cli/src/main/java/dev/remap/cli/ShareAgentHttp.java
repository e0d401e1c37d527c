package dev.remap.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.remap.engine.share.ShareAgent;
import dev.remap.engine.share.ShareStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * The share agent's HTTP face, for the operator: GET /status (the last round's status, in the
 * engine's text form), GET /healthz (200 once a round has finished, with the last round's failure
 * if it failed), POST /rebase?vm=NAME (move the VM's disks to the newest generation: the operator
 * calls it while the VM is stopped; answers the retired volumes, one per line), POST
 * /release?volume=NAME (forget a retired disk the VM no longer uses). Errors are 409 with the
 * sentence. One handler thread: requests are short and the agent serialises them anyway.
 */
final class ShareAgentHttp implements AutoCloseable {

  private final HttpServer server;
  private final ShareAgent agent;
  private volatile ShareStatus status;
  private volatile String failure;

  private ShareAgentHttp(HttpServer server, ShareAgent agent) {
    this.server = server;
    this.agent = agent;
  }

  static ShareAgentHttp start(String listen, ShareAgent agent) throws IOException {
    int colon = listen.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("--listen: '" + listen + "' is not HOST:PORT");
    }
    HttpServer server = HttpServer.create(new InetSocketAddress(listen.substring(0, colon),
        Integer.parseInt(listen.substring(colon + 1))), 16);
    ShareAgentHttp http = new ShareAgentHttp(server, agent);
    server.createContext("/status", http::status);
    server.createContext("/healthz", http::health);
    server.createContext("/rebase", http::rebase);
    server.createContext("/release", http::release);
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread thread = new Thread(r, "share-agent-http");
      thread.setDaemon(true);
      return thread;
    }));
    server.start();
    return http;
  }

  String address() {
    InetSocketAddress address = server.getAddress();
    return address.getHostString() + ":" + address.getPort();
  }

  void publish(ShareStatus latest) {
    status = latest;
    failure = null;
  }

  void failed(Exception e) {
    failure = e.getMessage();
  }

  private void status(HttpExchange exchange) throws IOException {
    ShareStatus now = status;
    if (now == null) {
      answer(exchange, 503, "no round has finished yet\n");
      return;
    }
    answer(exchange, 200, new String(now.encode(), StandardCharsets.UTF_8));
  }

  private void health(HttpExchange exchange) throws IOException {
    String problem = failure;
    answer(exchange, status == null ? 503 : 200, status == null ? "starting\n"
        : problem == null ? "ok\n" : "the last round failed: " + problem + "\n");
  }

  private void rebase(HttpExchange exchange) throws IOException {
    String vm = query(exchange, "vm");
    if (!post(exchange) || vm == null) {
      return;
    }
    try {
      List<String> old = agent.rebase(vm);
      answer(exchange, 200, old.isEmpty() ? "" : String.join("\n", old) + "\n");
    } catch (IOException | RuntimeException e) {
      answer(exchange, 409, e.getMessage() + "\n");
    }
  }

  private void release(HttpExchange exchange) throws IOException {
    String volume = query(exchange, "volume");
    if (!post(exchange) || volume == null) {
      return;
    }
    try {
      agent.release(volume);
      answer(exchange, 200, "released " + volume + "\n");
    } catch (IOException | RuntimeException e) {
      answer(exchange, 409, e.getMessage() + "\n");
    }
  }

  private static boolean post(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestMethod().equals("POST")) {
      answer(exchange, 405, "use POST\n");
      return false;
    }
    return true;
  }

  /** The query parameter name, or null after answering 400. */
  private static String query(HttpExchange exchange, String name) throws IOException {
    String raw = exchange.getRequestURI().getRawQuery();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        if (pair.startsWith(name + "=")) {
          return URLDecoder.decode(pair.substring(name.length() + 1), StandardCharsets.UTF_8);
        }
      }
    }
    answer(exchange, 400, "missing query parameter " + name + "\n");
    return null;
  }

  private static void answer(HttpExchange exchange, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(code, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
