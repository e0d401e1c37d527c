package dev.remap.engine.share.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where an inode's bytes are: an extent tree of any depth (ext4) or the old block map of direct
 * and indirect blocks (ext2/3). Unwritten extents and holes are left out (they read as zeros),
 * ranges are clipped to the file's size and neighbours that touch in both the file and the image
 * are merged.
 */
final class Ext4Mapping {

  private static final int INLINE_DATA_FL = 0x10000000;
  private static final int MAX_DEPTH = 5;

  private final Ext4Volume volume;
  private final Ext4Volume.Inode inode;
  private final List<ImageReader.Extent> found = new ArrayList<>();
  /** Tree and indirect blocks seen, so a loop in a damaged image ends in an error. */
  private final Set<Long> visited = new HashSet<>();

  private Ext4Mapping(Ext4Volume volume, Ext4Volume.Inode inode) {
    this.volume = volume;
    this.inode = inode;
  }

  static List<ImageReader.Extent> of(Ext4Volume volume, Ext4Volume.Inode inode) throws IOException {
    Ext4Mapping mapping = new Ext4Mapping(volume, inode);
    if ((inode.flags() & INLINE_DATA_FL) != 0) {
      throw volume.damaged("inode " + inode.number() + " keeps its data inline, without the inline_data feature");
    }
    if ((inode.flags() & Ext4Encoding.EXTENTS_FL) != 0) {
      ByteBuffer root = Ext4Encoding.le(inode.iBlock());
      mapping.node(root, 60, -1);
    } else {
      mapping.blockMap();
    }
    return mapping.merged();
  }

  /** One tree node (the inode's root or a block); depth is what its parent expects, or -1. */
  private void node(ByteBuffer b, int space, int expectedDepth) throws IOException {
    int magic = Short.toUnsignedInt(b.getShort(0));
    int entries = Short.toUnsignedInt(b.getShort(2));
    int max = Short.toUnsignedInt(b.getShort(4));
    int depth = Short.toUnsignedInt(b.getShort(6));
    if (magic != Ext4Encoding.EXTENT_MAGIC || entries > max || 12 + 12 * max > space || depth > MAX_DEPTH
        || (expectedDepth >= 0 && depth != expectedDepth)) {
      throw volume.damaged("inode " + inode.number() + " has a broken extent tree node (magic 0x"
          + Integer.toHexString(magic) + ", " + entries + " of " + max + " entries, depth " + depth + ")");
    }
    for (int i = 0; i < entries; i++) {
      int at = 12 + 12 * i;
      long logical = Integer.toUnsignedLong(b.getInt(at));
      if (depth == 0) {
        int length = Short.toUnsignedInt(b.getShort(at + 4));
        if (length > Ext4Encoding.MAX_EXTENT) {
          continue; // unwritten (preallocated) blocks read as zeros
        }
        long start = Short.toUnsignedLong(b.getShort(at + 6)) << 32 | Integer.toUnsignedLong(b.getInt(at + 8));
        add(logical, start, length);
      } else {
        long child = Integer.toUnsignedLong(b.getInt(at + 4)) | Short.toUnsignedLong(b.getShort(at + 8)) << 32;
        if (!visited.add(child)) {
          throw volume.damaged("inode " + inode.number() + "'s extent tree visits block " + child + " twice");
        }
        node(volume.block(child), volume.blockSize, depth - 1);
      }
    }
  }

  /** ext2/3: 12 direct blocks, then single, double and triple indirect blocks. */
  private void blockMap() throws IOException {
    ByteBuffer root = Ext4Encoding.le(inode.iBlock());
    long perBlock = volume.blockSize / 4;
    for (int i = 0; i < 12; i++) {
      add(i, Integer.toUnsignedLong(root.getInt(4 * i)), 1);
    }
    long logical = 12;
    long span = perBlock;
    for (int level = 1; level <= 3; level++) {
      indirect(Integer.toUnsignedLong(root.getInt(4 * (11 + level))), level, logical);
      logical += span;
      span *= perBlock;
    }
  }

  private void indirect(long block, int level, long logical) throws IOException {
    if (block == 0 || logical * volume.blockSize >= inode.size()) {
      return; // a hole, or past the end of the file
    }
    if (!visited.add(block)) {
      throw volume.damaged("inode " + inode.number() + "'s block map visits block " + block + " twice");
    }
    ByteBuffer b = volume.block(block);
    long perBlock = volume.blockSize / 4;
    long span = 1;
    for (int i = 1; i < level; i++) {
      span *= perBlock;
    }
    for (int i = 0; i < perBlock; i++) {
      long pointer = Integer.toUnsignedLong(b.getInt(4 * i));
      if (level == 1) {
        add(logical + i, pointer, 1);
      } else {
        indirect(pointer, level - 1, logical + i * span);
      }
    }
  }

  /** Blocks [logical, +count) of the file are at start; clipped to the file's size. */
  private void add(long logical, long start, long count) throws IOException {
    long fileOffset = logical * volume.blockSize;
    if (start == 0 || count == 0 || fileOffset >= inode.size()) {
      return;
    }
    volume.check(start, count, "inode " + inode.number());
    long length = Math.min(count * volume.blockSize, inode.size() - fileOffset);
    found.add(new ImageReader.Extent(fileOffset, start * volume.blockSize, length));
  }

  private List<ImageReader.Extent> merged() throws IOException {
    found.sort(Comparator.comparingLong(ImageReader.Extent::fileOffset));
    List<ImageReader.Extent> out = new ArrayList<>();
    for (ImageReader.Extent extent : found) {
      if (!out.isEmpty()) {
        ImageReader.Extent last = out.get(out.size() - 1);
        if (extent.fileOffset() < last.fileOffset() + last.length()) {
          throw volume.damaged("inode " + inode.number() + " maps file offset " + extent.fileOffset() + " twice");
        }
        if (extent.fileOffset() == last.fileOffset() + last.length()
            && extent.imageOffset() == last.imageOffset() + last.length()) {
          out.set(out.size() - 1, new ImageReader.Extent(last.fileOffset(), last.imageOffset(),
              last.length() + extent.length()));
          continue;
        }
      }
      out.add(extent);
    }
    return out;
  }
}
