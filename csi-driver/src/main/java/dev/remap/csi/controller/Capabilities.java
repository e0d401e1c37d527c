package dev.remap.csi.controller;

import dev.remap.csi.server.Rpc;
import dev.remap.csi.spec.Csi.VolumeCapability;
import dev.remap.csi.spec.Csi.VolumeCapability.AccessMode.Mode;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which volume capabilities Remap supports (pure). Every access mode that has at most one writer
 * at a time, for both access types; MULTI_NODE_MULTI_WRITER only for block volumes, where it means
 * what KubeVirt live migration needs: the volume is attached on two nodes while one writer hands
 * over to the other (the engine's single-writer lock enforces that only one serves it). A
 * filesystem mounted read-write on two nodes would be corrupted, so mount + multi-writer is refused.
 */
public final class Capabilities {

  /** Filesystems the node plugin can make and grow. */
  public static final Set<String> FS_TYPES = Set.of("ext4", "ext3", "xfs");

  private static final Set<Mode> ANY_TYPE = Set.of(Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_READER_ONLY,
      Mode.SINGLE_NODE_SINGLE_WRITER, Mode.SINGLE_NODE_MULTI_WRITER, Mode.MULTI_NODE_READER_ONLY,
      Mode.MULTI_NODE_SINGLE_WRITER);

  private Capabilities() {}

  /**
   * Checks that the capabilities are given and well formed (INVALID_ARGUMENT naming the field if
   * not), and returns why one is unsupported, or empty when Remap supports them all.
   */
  public static Optional<String> unsupported(String field, List<VolumeCapability> capabilities) {
    if (capabilities.isEmpty()) {
      throw Rpc.invalid(field + " is required: give at least one volume capability");
    }
    for (VolumeCapability capability : capabilities) {
      Optional<String> why = unsupported(field, capability);
      if (why.isPresent()) {
        return why;
      }
    }
    return Optional.empty();
  }

  /** The same for one capability. */
  public static Optional<String> unsupported(String field, VolumeCapability capability) {
    if (capability.getAccessTypeCase() == VolumeCapability.AccessTypeCase.ACCESSTYPE_NOT_SET) {
      throw Rpc.invalid(field + ": an access type (block or mount) is required");
    }
    if (!capability.hasAccessMode() || capability.getAccessMode().getMode() == Mode.UNKNOWN) {
      throw Rpc.invalid(field + ": an access mode is required");
    }
    Mode mode = capability.getAccessMode().getMode();
    boolean block = capability.hasBlock();
    if (mode == Mode.UNRECOGNIZED) {
      return Optional.of("access mode " + capability.getAccessMode().getModeValue() + " is unknown to this driver");
    }
    if (!ANY_TYPE.contains(mode) && !(block && mode == Mode.MULTI_NODE_MULTI_WRITER)) {
      return Optional.of("access mode " + mode + " is supported only for block volumes (a filesystem cannot have "
          + "writers on several nodes)");
    }
    if (!block) {
      String fs = capability.getMount().getFsType();
      if (!fs.isEmpty() && !FS_TYPES.contains(fs)) {
        return Optional.of("filesystem type '" + fs + "' is not supported: use one of " + FS_TYPES.stream().sorted().toList());
      }
    }
    return Optional.empty();
  }

  /** Throws INVALID_ARGUMENT with the reason when a capability is unsupported. */
  public static void require(String field, List<VolumeCapability> capabilities) {
    unsupported(field, capabilities).ifPresent(why -> {
      throw Rpc.invalid(field + ": " + why);
    });
  }
}
