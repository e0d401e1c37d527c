package dev.remap.engine.share.image;

import java.time.Instant;
import java.util.Objects;

/**
 * What a built disk should be besides its files: the filesystem label (cut to what the
 * filesystem allows), a 32-bit serial (the FAT volume id; ext4 derives its UUID from it), the
 * bytes to leave free for the VMs' own writes, and the time stamped on directories and the
 * filesystem. The same spec and tree give the same image, byte for byte.
 */
public record ImageSpec(String label, int serial, long freeSpace, Instant created) {
  public ImageSpec {
    Objects.requireNonNull(label, "label");
    Objects.requireNonNull(created, "created");
    if (freeSpace < 0) {
      throw new IllegalArgumentException("negative free space " + freeSpace);
    }
  }
}
