package dev.remap.operator.disk;

import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VmAttachment;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The names a VirtualDisk gives the objects it makes. Pure and stable across restarts. */
public final class DiskNames {

  private static final int LABEL_MAX = 63;

  private DiskNames() {}

  /** The PVC has the disk's name, as a DataVolume's does: easy to find, unique per namespace. */
  public static String pvc(VirtualDisk disk) {
    return disk.getMetadata().getName();
  }

  /** The VolumeSnapshot of one spec.snapshots entry. */
  public static String volumeSnapshot(String diskName, String snapshotName) {
    return diskName + "-" + snapshotName;
  }

  /**
   * The volume and disk name in the VM's spec: a DNS label (KubeVirt's rule), so dots become
   * dashes and long names are cut and suffixed with a hash to stay unique.
   */
  public static String vmVolume(String diskName) {
    String name = "remap-" + diskName.replace('.', '-');
    if (name.length() <= LABEL_MAX) {
      return name;
    }
    return name.substring(0, LABEL_MAX - 9).replaceAll("-+$", "") + "-" + hash(diskName).substring(0, 8);
  }

  /**
   * The volume (in Remap's store) and the PersistentVolume an imported disk gets: made by the
   * operator, not the provisioner, so named after the disk's uid (stable, unique, a DNS name).
   */
  public static String imported(VirtualDisk disk) {
    return "remap-import-" + uidHex(disk, 20);
  }

  /**
   * The serial the guest sees: spec.vm.serial, else the first 20 hex digits of the disk's uid
   * (virtio-blk's limit is 20 bytes). The uid never changes, so neither does the serial.
   */
  public static String serial(VirtualDisk disk) {
    VmAttachment vm = disk.getSpec().vm;
    if (vm != null && vm.serial != null && !vm.serial.isEmpty()) {
      return vm.serial;
    }
    return uidHex(disk, VmAttachment.MAX_SERIAL);
  }

  /** The first (at most) digits hex digits of the disk's uid, which never changes. */
  private static String uidHex(VirtualDisk disk, int digits) {
    String uid = disk.getMetadata().getUid();
    if (uid == null) {
      throw new IllegalStateException("VirtualDisk " + disk.getMetadata().getName() + " has no uid yet");
    }
    String hex = uid.replace("-", "");
    return hex.substring(0, Math.min(digits, hex.length()));
  }

  private static String hash(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
