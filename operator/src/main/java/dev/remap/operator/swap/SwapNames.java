package dev.remap.operator.swap;

import dev.remap.api.swap.VmMemorySwap;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The names a VmMemorySwap gives the objects it makes (issue 16's contract). Pure and stable across restarts. */
public final class SwapNames {

  /** A DNS label's and a label value's limit, which KubeVirt's disk names also keep. */
  private static final int LABEL_MAX = 63;
  private static final String SUFFIX = "-swap";

  private SwapNames() {}

  /**
   * The PersistentVolume: cluster-scoped, so named after the swap's uid, which no other object
   * of any namespace shares and which never changes.
   */
  public static String persistentVolume(VmMemorySwap swap) {
    String uid = swap.getMetadata().getUid();
    if (uid == null) {
      throw new IllegalStateException("VmMemorySwap " + swap.getMetadata().getName() + " has no uid yet");
    }
    return "remap-swap-" + uid;
  }

  /** The PVC, in the swap's namespace. */
  public static String pvc(VmMemorySwap swap) {
    return swap.getMetadata().getName() + SUFFIX;
  }

  /** The CSI volume handle, also the node's export name: swap/NS/NAME. */
  public static String volumeHandle(VmMemorySwap swap) {
    return "swap/" + swap.getMetadata().getNamespace() + "/" + swap.getMetadata().getName();
  }

  /**
   * The volume and disk name in the VM's spec: NAME-swap, made a DNS label (KubeVirt's rule) by
   * turning dots into dashes and cutting long names with a hash suffix so they stay unique.
   */
  public static String vmDisk(VmMemorySwap swap) {
    return dnsLabel(swap.getMetadata().getName().replace('.', '-') + SUFFIX, swap.getMetadata().getName());
  }

  /** The value of the remap.dev/swap label: the swap's name, cut like {@link #vmDisk} when too long for a label. */
  public static String labelValue(String swapName) {
    return dnsLabel(swapName, swapName);
  }

  /** The serial the guest sees (/dev/disk/by-id): the first 20 hex digits of the uid, as a VirtualDisk's. */
  public static String serial(VmMemorySwap swap) {
    String hex = swap.getMetadata().getUid() == null ? "" : swap.getMetadata().getUid().replace("-", "");
    return hex.isEmpty() ? null : hex.substring(0, Math.min(20, hex.length()));
  }

  private static String dnsLabel(String wanted, String source) {
    if (wanted.length() <= LABEL_MAX) {
      return wanted;
    }
    String cut = wanted.substring(0, LABEL_MAX - 9).replaceAll("[-.]+$", "");
    return cut + "-" + hash(source).substring(0, 8);
  }

  private static String hash(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
