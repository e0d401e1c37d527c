package dev.remap.operator.swap;

import io.fabric8.kubernetes.api.model.Quantity;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigInteger;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The node swap pool cap the operator checks memoryLimits against: remap.swap.pool-size, which
 * MicroProfile Config also reads from the environment as REMAP_SWAP_POOL_SIZE (set by the chart
 * from swap.poolSize, the value the node plugins' --swap-pool comes from). Default 1Gi, as the chart's.
 *
 * <p>And how often a settled swap is looked at again (remap.swap.refresh, REMAP_SWAP_REFRESH,
 * default 30s): its counters, its VM's node and the node's stage failures send the operator no
 * event, so this is how soon they show in status.
 */
@ApplicationScoped
public class SwapSettings {

  private final String poolSize;
  private final BigInteger poolBytes;
  private final Duration refresh;

  public SwapSettings(@ConfigProperty(name = "remap.swap.pool-size", defaultValue = "1Gi") String poolSize,
      @ConfigProperty(name = "remap.swap.refresh", defaultValue = "30s") Duration refresh) {
    if (refresh.isNegative() || refresh.isZero()) {
      throw new IllegalArgumentException("REMAP_SWAP_REFRESH (remap.swap.refresh) must be a positive duration such as"
          + " 30s, not " + refresh);
    }
    this.refresh = refresh;
    this.poolSize = poolSize.strip();
    try {
      this.poolBytes = Quantity.getAmountInBytes(new Quantity(this.poolSize)).toBigIntegerExact();
    } catch (ArithmeticException | IllegalArgumentException e) {
      throw new IllegalArgumentException("REMAP_SWAP_POOL_SIZE (remap.swap.pool-size) must be a whole number of"
          + " bytes such as 1Gi, not " + poolSize, e);
    }
    if (poolBytes.signum() < 0) {
      throw new IllegalArgumentException("REMAP_SWAP_POOL_SIZE (remap.swap.pool-size) must be a non-negative size"
          + " such as 1Gi, not " + poolSize);
    }
  }

  /** The cap as written (for messages), e.g. 1Gi. */
  public String poolSize() {
    return poolSize;
  }

  public BigInteger poolBytes() {
    return poolBytes;
  }

  /** How often a settled swap is reconciled again. */
  public Duration refresh() {
    return refresh;
  }
}
