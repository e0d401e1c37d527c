package dev.remap.operator.share;

import dev.remap.api.share.LogicalDiskShare;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The names a LogicalDiskShare gives what it makes. Pure and stable across operator restarts.
 * Most are derived from the share's uid: a share deleted and made again under the same name
 * starts afresh, with none of the old one's generations.
 */
public final class ShareNames {

  private ShareNames() {}

  /** The share's id in Remap's store (its objects are under shares/ID/): lds-UID. */
  public static String shareId(LogicalDiskShare share) {
    return "lds-" + uid(share);
  }

  /** The agent's Deployment and the copy of the user's Secret next to it, in the operator's namespace. */
  public static String agent(LogicalDiskShare share) {
    return "remap-share-" + uid(share).replace("-", "").substring(0, 20);
  }

  /** A VM disk's PersistentVolume (cluster-scoped): remap-share-HASH of the share, VM, group and generation. */
  public static String persistentVolume(LogicalDiskShare share, String vm, String group, long generation) {
    return "remap-share-" + hash(uid(share) + "/" + vm + "/" + group + "/" + generation).substring(0, 24);
  }

  /** The PVC, in the share's namespace: SHARE-HASH (a share name is a DNS subdomain; the hash keeps it short). */
  public static String pvc(LogicalDiskShare share, String vm, String group, long generation) {
    String name = share.getMetadata().getName();
    String cut = name.length() > 40 ? name.substring(0, 40).replaceAll("[-.]+$", "") : name;
    return cut + "-" + hash(uid(share) + "/" + vm + "/" + group + "/" + generation).substring(0, 16);
  }

  /**
   * The volume and disk name in the VM's spec, a DNS label: lds-HASH-gN. The generation is in
   * it so that moving a stopped VM to a new generation swaps one disk for another by name.
   */
  public static String vmDisk(LogicalDiskShare share, String group, long generation) {
    return "lds-" + hash(uid(share) + "/" + group).substring(0, 12) + "-g" + generation;
  }

  /** The prefix of every vmDisk of the share's group, whatever its generation. */
  public static String vmDiskPrefix(LogicalDiskShare share, String group) {
    return "lds-" + hash(uid(share) + "/" + group).substring(0, 12) + "-g";
  }

  /**
   * The serial the guest sees (/dev/disk/by-id/virtio-SERIAL): the same for a group in every
   * generation, so a guest's mount by id survives the move to a new generation. 20 characters,
   * virtio's limit.
   */
  public static String serial(LogicalDiskShare share, String group) {
    return "lds" + hash(uid(share) + "/" + group).substring(0, 17);
  }

  /**
   * The serial of one generation's disk, for a share whose running VMs get new generations by
   * hotplug: two generations' disks are in the VM at once then, and two disks of one serial would
   * collide in the guest's /dev/disk/by-id.
   */
  public static String serial(LogicalDiskShare share, String group, long generation) {
    return "lds" + hash(uid(share) + "/" + group + "@" + generation).substring(0, 17);
  }

  private static String uid(LogicalDiskShare share) {
    String uid = share.getMetadata().getUid();
    if (uid == null) {
      throw new IllegalStateException("LogicalDiskShare " + share.getMetadata().getName() + " has no uid yet");
    }
    return uid;
  }

  static String hash(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
