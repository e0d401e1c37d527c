package dev.remap.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
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
 * /release?volume=NAME (forget a retired disk the VM no longer uses), POST /delete[?abandon=true]
 * (the share is being deleted: stop, send what waits, remove the share from the store). Errors
 * are 409 with the sentence; /delete's failures other than changes still waiting are 500. After a
 * deletion every request is answered 410: the process only waits for its Deployment to go. One
 * handler thread: requests are short (a deletion excepted, which nothing else may overlap) and
 * the agent serialises them anyway.
 */
final class ShareAgentHttp implements AutoCloseable {

  /** Carries out POST /delete (see {@link ShareAgentCommand}). */
  interface Deleter {
    Deletion delete(boolean abandon) throws IOException;
  }

  /** What a deletion did: done, or refused because pending changes reached no cloud yet (and why). */
  record Deletion(boolean deleted, long pending, String message) {}

  /** The header of a 409 from /delete: how many changes still wait for the cloud. */
  static final String PENDING_HEADER = "Remap-Pending-Changes";

  private final HttpServer server;
  private final ShareAgent agent;
  private final Deleter deleter;
  private volatile ShareStatus status;
  private volatile String failure;
  /** Why the agent does nothing more (the share was deleted); null while it works. */
  private volatile String gone;

  private ShareAgentHttp(HttpServer server, ShareAgent agent, Deleter deleter) {
    this.server = server;
    this.agent = agent;
    this.deleter = deleter;
  }

  static ShareAgentHttp start(String listen, ShareAgent agent, Deleter deleter) throws IOException {
    int colon = listen.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("--listen: '" + listen + "' is not HOST:PORT");
    }
    HttpServer server = HttpServer.create(new InetSocketAddress(listen.substring(0, colon),
        Integer.parseInt(listen.substring(colon + 1))), 16);
    ShareAgentHttp http = new ShareAgentHttp(server, agent, deleter);
    server.createContext("/status", http.unlessGone(http::status));
    server.createContext("/healthz", http.unlessGone(http::health));
    server.createContext("/rebase", http.unlessGone(http::rebase));
    server.createContext("/release", http.unlessGone(http::release));
    server.createContext("/delete", http.unlessGone(http::delete));
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

  private void delete(HttpExchange exchange) throws IOException {
    if (!post(exchange)) {
      return;
    }
    boolean abandon = "true".equals(parameter(exchange, "abandon"));
    try {
      Deletion done = deleter.delete(abandon);
      if (done.deleted()) {
        gone = done.message();
        answer(exchange, 200, done.message() + "\n");
      } else {
        exchange.getResponseHeaders().set(PENDING_HEADER, Long.toString(done.pending()));
        answer(exchange, 409, done.message() + "\n");
      }
    } catch (IOException | RuntimeException e) {
      // The store failed, or a disk is still in use somewhere: the caller asks again later.
      answer(exchange, 500, "the share could not be deleted: " + e.getMessage() + "\n");
    }
  }

  /** handler, or 410 once the share is deleted (the agent must not make anything again). */
  private HttpHandler unlessGone(HttpHandler handler) {
    return exchange -> {
      String why = gone;
      if (why != null) {
        answer(exchange, 410, why + "; this agent does nothing more\n");
      } else {
        handler.handle(exchange);
      }
    };
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
    String value = parameter(exchange, name);
    if (value == null) {
      answer(exchange, 400, "missing query parameter " + name + "\n");
    }
    return value;
  }

  /** The query parameter name, or null. */
  private static String parameter(HttpExchange exchange, String name) {
    String raw = exchange.getRequestURI().getRawQuery();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        if (pair.startsWith(name + "=")) {
          return URLDecoder.decode(pair.substring(name.length() + 1), StandardCharsets.UTF_8);
        }
      }
    }
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
