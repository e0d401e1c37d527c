package dev.remap.csi.controller;

import dev.remap.csi.server.Rpc;
import io.grpc.Status;
import java.util.List;
import java.util.function.Function;

/**
 * Pages of a sorted listing (pure). A token is {@code after:KEY}: the next page starts after the
 * last key returned, so entries added or deleted between two pages neither repeat nor shift the
 * listing (an offset would skip one entry for every one deleted before it). A token this driver
 * could not have issued is ABORTED, as the CSI spec asks.
 */
public final class Paging {

  private static final String PREFIX = "after:";

  /** One page and the token of the next, empty when this is the last. */
  public record Page<T>(List<T> entries, String nextToken) {}

  private Paging() {}

  public static <T> Page<T> page(List<T> sorted, Function<T, String> key, int maxEntries, String startingToken) {
    if (maxEntries < 0) {
      throw Rpc.invalid("max_entries must not be negative, not " + maxEntries);
    }
    int from = 0;
    if (!startingToken.isEmpty()) {
      if (!startingToken.startsWith(PREFIX) || startingToken.length() == PREFIX.length()) {
        throw Status.ABORTED.withDescription("starting_token '" + startingToken
            + "' was not issued by this driver: start the listing again without it").asRuntimeException();
      }
      String after = startingToken.substring(PREFIX.length());
      while (from < sorted.size() && key.apply(sorted.get(from)).compareTo(after) <= 0) {
        from++;
      }
    }
    int to = maxEntries == 0 ? sorted.size() : Math.min(sorted.size(), from + maxEntries);
    List<T> entries = sorted.subList(from, to);
    String next = to < sorted.size() && !entries.isEmpty() ? PREFIX + key.apply(entries.get(entries.size() - 1)) : "";
    return new Page<>(List.copyOf(entries), next);
  }
}
