package dev.remap.csi.controller;

import dev.remap.engine.volume.StoreLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * How CSI ids map onto the store (pure). A volume id is the volume's name in the store (CSI names
 * such as pvc-&lt;uuid&gt; are valid store names); a snapshot id is {@code VOLUME@SNAPSHOT}, the
 * names in the store, '@' being a character neither may contain.
 *
 * <p>A clone of a volume (not of a snapshot) is made from a hidden snapshot of the source named
 * {@code remap-clone-<hash of the new volume's name>}: deterministic, so a retried CreateVolume
 * finds the snapshot its first attempt made; the snapshot is deleted once the clone exists (the
 * clone's first checkpoint references the same segments, so garbage collection keeps them).
 * Hidden snapshots are never listed.
 */
public final class Ids {

  public static final String CLONE_PREFIX = "remap-clone-";

  /** A snapshot id taken apart. */
  public record SnapshotId(String volume, String snapshot) {
    @Override
    public String toString() {
      return volume + "@" + snapshot;
    }
  }

  private Ids() {}

  /** The volume name an id denotes, or empty when no volume can have that id. */
  public static Optional<String> volume(String id) {
    return validName(id);
  }

  /** The snapshot an id denotes, or empty when no snapshot can have that id. */
  public static Optional<SnapshotId> snapshot(String id) {
    int at = id.indexOf('@');
    if (at < 0) {
      return Optional.empty();
    }
    Optional<String> volume = validName(id.substring(0, at));
    Optional<String> snapshot = validName(id.substring(at + 1));
    if (volume.isEmpty() || snapshot.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new SnapshotId(volume.get(), snapshot.get()));
  }

  public static boolean isHidden(String snapshotName) {
    return snapshotName.startsWith(CLONE_PREFIX);
  }

  /** The hidden snapshot a volume-to-volume clone named newVolume is made from. */
  public static String cloneSnapshot(String newVolume) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(newVolume.getBytes(StandardCharsets.UTF_8));
      return CLONE_PREFIX + HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static Optional<String> validName(String name) {
    try {
      return Optional.of(StoreLayout.requireName("volume", name));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
