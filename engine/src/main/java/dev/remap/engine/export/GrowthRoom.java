package dev.remap.engine.export;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.ForwardingBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A volume seen through an export larger than it: the export advertises {@code ceiling} (the
 * largest size the volume may grow to) while the volume has its current size below it. An NBD
 * connection's size is fixed when it is negotiated, so a client that has to see a volume grow
 * without reconnecting (the node's loop device over nbdfuse, which a reconnect would not resize
 * anyway) is given the room up front and told the volume's real size by other means (the loop
 * device's size limit).
 *
 * <p>Past the volume's current end: reads and block status answer zeros (a hole), which is what
 * that range holds once the volume grows over it; trims and zeroing are accepted and change
 * nothing, for the same reason; writes fail with {@link PastTheEnd} (ENOSPC to the client). The
 * end is read from the volume at every request, so growth shows at once.
 */
public final class GrowthRoom extends ForwardingBlockDevice {

  /** A write past the volume's current end, inside the room an export advertises. */
  public static final class PastTheEnd extends IOException {
    PastTheEnd(String message) {
      super(message);
    }
  }

  private final String name;
  private final long ceiling;

  GrowthRoom(String name, BlockDevice volume, long ceiling) {
    super(volume);
    if (ceiling < volume.size() || ceiling % volume.blockSize() != 0) {
      throw new IllegalArgumentException("the room of export " + name + " (" + ceiling + " bytes) must be a block "
          + "multiple no smaller than the volume (" + volume.size() + " bytes)");
    }
    this.name = name;
    this.ceiling = ceiling;
  }

  @Override
  public long size() {
    return ceiling;
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    read(offset, dst, false);
  }

  @Override
  public boolean readIfLocal(long offset, ByteBuffer dst) throws IOException {
    return read(offset, dst, true);
  }

  /** The volume's bytes up to its end, zeros after; false if onlyLocal and the volume declined. */
  private boolean read(long offset, ByteBuffer dst, boolean onlyLocal) throws IOException {
    long end = next.size();
    int inside = (int) Math.max(0, Math.min(dst.remaining(), end - offset));
    if (inside > 0) {
      ByteBuffer head = dst.slice(dst.position(), inside);
      if (onlyLocal) {
        if (!next.readIfLocal(offset, head)) {
          return false;
        }
      } else {
        next.read(offset, head);
      }
      dst.position(dst.position() + inside);
    }
    while (dst.hasRemaining()) {
      dst.put((byte) 0);
    }
    return true;
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    long end = next.size();
    if (offset + src.remaining() > end) {
      throw new PastTheEnd("write of " + src.remaining() + " bytes at " + offset + " runs past the end of volume "
          + name + " (" + end + " bytes); grow the volume first");
    }
    next.write(offset, src, fua);
  }

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    insideOnly(offset, length, fua, inside -> next.trim(offset, inside, fua));
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    insideOnly(offset, length, fua, inside -> next.writeZeroes(offset, inside, noHole, fua));
  }

  private interface RangeOp {
    void apply(long insideLength) throws IOException;
  }

  /** Applies op to the part of the range inside the volume; past its end there is nothing to change. */
  private void insideOnly(long offset, long length, boolean fua, RangeOp op) throws IOException {
    long inside = Math.min(length, next.size() - offset);
    if (inside > 0) {
      op.apply(inside);
    } else if (fua) {
      next.flush();
    }
  }

  @Override
  public List<Extent> extents(long offset, long length) throws IOException {
    long end = next.size();
    long inside = Math.max(0, Math.min(length, end - offset));
    List<Extent> extents = new ArrayList<>();
    if (inside > 0) {
      extents.addAll(next.extents(offset, inside));
    }
    if (inside < length) {
      extents.add(new Extent(offset + inside, length - inside, true, true));
    }
    return extents;
  }
}
