package dev.remap.csi.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A plain HTTP client for the tests, as a kubelet probe or a Prometheus scrape would ask. */
public final class Http {

  /** An answer: status and body. */
  public record Answer(int status, String body) {

    /** The value of one sample line of a Prometheus text answer (name{labels}), or NaN if absent. */
    public double sample(String series) {
      for (String line : body.split("\n")) {
        if (line.startsWith(series + " ")) {
          return Double.parseDouble(line.substring(series.length() + 1).trim());
        }
      }
      return Double.NaN;
    }
  }

  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Http() {}

  public static Answer get(InetSocketAddress address, String path) throws IOException, InterruptedException {
    return send(address, path, "GET");
  }

  public static Answer send(InetSocketAddress address, String path, String method)
      throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + path))
        .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody()).build();
    HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
    return new Answer(response.statusCode(), response.body());
  }
}
