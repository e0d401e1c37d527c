package dev.remap.operator.swap;

import io.fabric8.kubernetes.api.model.Quantity;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The node swap pool cap the operator checks memoryLimits against: remap.swap.pool-size, which
 * MicroProfile Config also reads from the environment as REMAP_SWAP_POOL_SIZE (set by the chart
 * from swap.poolSize, the value the node plugins' --swap-pool comes from). Default 1Gi, as the chart's.
 */
@ApplicationScoped
public class SwapSettings {

  private final String poolSize;
  private final BigInteger poolBytes;

  public SwapSettings(@ConfigProperty(name = "remap.swap.pool-size", defaultValue = "1Gi") String poolSize) {
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
}
