package dev.remap.operator.swap;

import java.math.BigInteger;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Whether a swap fits the node's swap pool (issue 16's contract). Pure.
 *
 * <p>What a swap takes from its node's pool is what the node reserves when it stages the disk
 * (the engine's SwapDisk): the smaller of spec.memoryLimit and spec.size, since a disk never holds
 * more pages than it has ({@link #reserved}). A 1Gi disk with a 4Gi memoryLimit takes 1Gi.
 *
 * <p>Two rules. A swap whose reservation alone is above the pool cap never fits anywhere. The
 * swaps of VMs running on one node (their VMI's status.nodeName) share that node's pool: taken
 * oldest first (creationTimestamp, then namespace and name), each keeps its place if it fits in
 * what the older ones left, and is refused otherwise, without taking any room. This mirrors the
 * node, which refuses a swap disk that does not fit when it stages it; it is the operator's
 * forecast, reported as PoolExhausted, not a reservation.
 */
public final class SwapAdmission {

  /** The setting that sets the cap, for messages: the chart value and the operator's variable. */
  public static final String CAP_SETTING = "the chart's swap.poolSize, REMAP_SWAP_POOL_SIZE";

  private SwapAdmission() {}

  /**
   * One swap as the rule sees it.
   *
   * @param created creationTimestamp (RFC 3339, which sorts as text)
   * @param reserved what the node reserves for it: {@link #reserved} of its spec, in bytes
   * @param node the node its VM runs on, or null when the VM does not run
   */
  public record Claim(String namespace, String name, String created, BigInteger reserved, String node) {}

  static final Comparator<Claim> OLDEST_FIRST = Comparator.comparing(Claim::created, Comparator.nullsLast(String::compareTo))
      .thenComparing(Claim::namespace).thenComparing(Claim::name);

  /** The bytes of pool the node reserves for a swap disk: min(memoryLimit, size), as the node's SwapDisk does. */
  public static BigInteger reserved(BigInteger memoryLimit, BigInteger size) {
    return memoryLimit.min(size);
  }

  /**
   * Why the swap's reservation alone can never fit under the cap, or empty when it can. The
   * message names the field that sets the reservation: spec.memoryLimit, or spec.size when smaller.
   */
  public static Optional<String> aboveCap(BigInteger memoryLimit, String memoryLimitText, BigInteger size,
      String sizeText, BigInteger cap, String capText) {
    BigInteger reserved = reserved(memoryLimit, size);
    if (reserved.compareTo(cap) <= 0) {
      return Optional.empty();
    }
    String what = memoryLimit.compareTo(size) <= 0
        ? "spec.memoryLimit " + memoryLimitText + " (" + memoryLimit + " bytes)"
        : "spec.size " + sizeText + " (" + size + " bytes, below spec.memoryLimit " + memoryLimitText
            + ", so the node reserves the disk's whole size)";
    return Optional.of(what + " is above the node swap pool cap " + capText + " (" + cap + " bytes; " + CAP_SETTING
        + "): no node can hold it, so no volume is made and nothing is attached to the VM; lower spec.memoryLimit"
        + " below the cap (and give spec.spill) or raise the cap");
  }

  /**
   * Why self does not fit in its node's pool next to the older swaps of VMs on the same node, or
   * empty when it does (or its VM does not run, so it holds no pool yet).
   *
   * @param all every swap the operator knows, self included
   */
  public static Optional<String> onNode(Claim self, List<Claim> all, BigInteger cap, String capText) {
    if (self.node() == null) {
      return Optional.empty();
    }
    List<Claim> sameNode = all.stream()
        .filter(c -> self.node().equals(c.node()) && c.reserved().compareTo(cap) <= 0)
        .sorted(OLDEST_FIRST).toList();
    BigInteger used = BigInteger.ZERO;
    for (Claim c : sameNode) {
      boolean fits = used.add(c.reserved()).compareTo(cap) <= 0;
      if (same(c, self)) {
        if (fits) {
          return Optional.empty();
        }
        return Optional.of("the swaps of the VMs running on node " + self.node() + " would need more than its swap pool"
            + " cap " + capText + " (" + cap + " bytes; " + CAP_SETTING + "): older swaps there hold " + used
            + " bytes, and the " + self.reserved() + " bytes this one reserves (the smaller of spec.memoryLimit and"
            + " spec.size) do not fit in the "
            + cap.subtract(used) + " bytes left; the node refuses to stage this swap disk");
      }
      if (fits) {
        used = used.add(c.reserved());
      }
    }
    return Optional.empty();
  }

  private static boolean same(Claim a, Claim b) {
    return Objects.equals(a.namespace(), b.namespace()) && Objects.equals(a.name(), b.name());
  }
}
