package dev.remap.csi.http;

import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * Where the health and metrics endpoint listens ({@code --http-address}).
 *
 * @param bestEffort the address is a default nobody asked for: when it is taken (another plugin
 *     on the host network uses the livenessprobe port), the process runs without the endpoint and
 *     says so, instead of failing; an address given on the command line must be had
 */
public record HttpAddress(InetSocketAddress address, boolean bestEffort) {

  public static final String FLAG = "--http-address";

  /**
   * HOST:PORT, :PORT (every interface), [IPV6]:PORT, or {@code none} (no endpoint: empty). Port 0
   * takes a free port (the process logs which).
   */
  public static Optional<HttpAddress> parse(String text, boolean bestEffort) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(FLAG + " needs HOST:PORT, :PORT or none");
    }
    if (text.equals("none")) {
      return Optional.empty();
    }
    int colon = text.lastIndexOf(':');
    if (colon < 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException(FLAG + " needs HOST:PORT, :PORT or none, not '" + text + "'");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(FLAG + " port '" + text.substring(colon + 1) + "' is not a number");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(FLAG + " port " + port + " is outside 0-65535");
    }
    InetSocketAddress address = host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    if (address.isUnresolved()) {
      throw new IllegalArgumentException(FLAG + " host '" + host + "' cannot be resolved");
    }
    return Optional.of(new HttpAddress(address, bestEffort));
  }
}
