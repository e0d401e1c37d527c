package dev.remap.engine.block;

/**
 * What a device can do, declared by the device itself so that a front-end advertises exactly
 * that (NBD's transmission flags, a CSI volume's capabilities) instead of guessing from its type.
 *
 * @param readOnly writes, trims and zeroing are refused
 * @param trim {@link BlockDevice#trim} deallocates (a device that cannot would only waste the request)
 * @param zeroes {@link BlockDevice#writeZeroes} is cheaper than writing zeros
 * @param fua a write with {@code fua} is durable on return without a whole-device flush
 * @param growthLimit the largest size the device may grow to while open ({@code size()} if it cannot grow)
 */
public record Capabilities(boolean readOnly, boolean trim, boolean zeroes, boolean fua, long growthLimit) {

  public Capabilities {
    if (growthLimit < 0) {
      throw new IllegalArgumentException("a growth limit cannot be negative: " + growthLimit);
    }
    if (readOnly && (trim || zeroes)) {
      throw new IllegalArgumentException("a read-only device cannot trim or write zeroes");
    }
  }

  /**
   * A read-only device of a fixed size. FUA is trivially honoured (there is nothing to make
   * durable), and clients that always set it on flushes and reads are not refused.
   */
  public static Capabilities readOnly(long size) {
    return new Capabilities(true, false, false, true, size);
  }

  /** A writable device that trims, zeroes and honours FUA, of a fixed size. */
  public static Capabilities writable(long size) {
    return new Capabilities(false, true, true, true, size);
  }

  /** The same, able to grow to limit. */
  public Capabilities growingTo(long limit) {
    return new Capabilities(readOnly, trim, zeroes, fua, limit);
  }
}
