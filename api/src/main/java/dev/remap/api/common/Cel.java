package dev.remap.api.common;

/**
 * Pieces of CEL shared by the validation rules of the three kinds. Sizes are Kubernetes
 * quantities written as strings ("10Gi", "1073741824"). They are strings, not int-or-string
 * like a PVC's request, because the API server bounds the cost of CEL rules by the length of
 * the strings they parse, and the CRD generator cannot put a maxLength on an int-or-string.
 */
public final class Cel {

  /** Longest quantity string accepted; bounds the cost of the CEL rules that parse it. */
  public static final int MAX_QUANTITY = 32;

  /** A whole, positive number of bytes. */
  public static final String POSITIVE_BYTES =
      "isQuantity(self) && quantity(self).isInteger() && quantity(self).asInteger() > 0";

  /** A whole, non-negative number of bytes. */
  public static final String NON_NEGATIVE_BYTES =
      "isQuantity(self) && quantity(self).isInteger() && quantity(self).asInteger() >= 0";

  /** The quantity did not shrink on update (a transition rule). */
  public static final String DOES_NOT_SHRINK =
      "!isQuantity(self) || !isQuantity(oldSelf)"
          + " || quantity(self).compareTo(quantity(oldSelf)) >= 0";

  /** A Go-style duration of at least one unit, e.g. 1s, 500ms, 1m30s. */
  public static final String DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";

  /** An object name (RFC 1123 subdomain), as for any Kubernetes object. */
  public static final String NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  /** An RFC 1123 label, for names that become part of other objects' names. */
  public static final String LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  public static final String IMMUTABLE = "self == oldSelf";

  private Cel() {}
}
