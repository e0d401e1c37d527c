package dev.remap.api.common;

/**
 * The three condition types every Remap resource reports, with the meaning users can rely on,
 * and those of one kind only. Each condition carries the observedGeneration of the spec it describes.
 */
public final class ConditionTypes {
  /** The resource does what its spec asks (for a disk: bound and, if asked, attached). */
  public static final String READY = "Ready";
  /** The operator is working towards the spec; the reason says what it waits for. */
  public static final String PROGRESSING = "Progressing";
  /** Something is wrong that needs attention; the message says what. */
  public static final String DEGRADED = "Degraded";

  /**
   * VirtualDisk only: True while the node serving the disk reports that its writes fail for want
   * of space (its local disk or the store is full); the message says which. Reads go on.
   */
  public static final String NO_SPACE = "NoSpace";

  /** The reason used while a kind's data plane does not exist yet: never a fake success. */
  public static final String REASON_NOT_IMPLEMENTED = "NotImplemented";

  private ConditionTypes() {}
}
