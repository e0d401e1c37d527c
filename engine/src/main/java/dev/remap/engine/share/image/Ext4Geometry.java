package dev.remap.engine.share.image;

import java.util.ArrayList;
import java.util.List;

/**
 * Where an ext4 image made by {@link Ext4ImageBuilder} keeps its per-group metadata: 4096-byte
 * blocks, 32768 blocks per group, 256-byte inodes, 32-byte group descriptors (no 64bit), no
 * reserved GDT blocks (no resize_inode) and no flex_bg, so every group holds its own block
 * bitmap, inode bitmap and inode table, after a superblock and descriptor backup when
 * sparse_super says the group has one. Pure arithmetic.
 */
final class Ext4Geometry {

  static final int BLOCK = 4096;
  static final int BLOCKS_PER_GROUP = 8 * BLOCK;
  static final int INODE_SIZE = 256;
  static final int INODES_PER_BLOCK = BLOCK / INODE_SIZE;
  static final int DESC_SIZE = 32;
  /**
   * Fewest data blocks a full group has: 32768 less a superblock, 1024 descriptor blocks (16 TiB),
   * two bitmaps and a 2048-block inode table (32768 inodes).
   */
  static final int MIN_SPAN = BLOCKS_PER_GROUP - 1 - 1024 - 2 - 2048;
  /** Without 64bit a block number is 32 bits. */
  static final long MAX_BLOCKS = 1L << 32;

  final long blocks;
  final int groups;
  final int inodesPerGroup;
  final int gdtBlocks;
  final int itableBlocks;

  private Ext4Geometry(long blocks, int groups, int inodesPerGroup) {
    this.blocks = blocks;
    this.groups = groups;
    this.inodesPerGroup = inodesPerGroup;
    this.gdtBlocks = (int) ceilDiv(groups * (long) DESC_SIZE, BLOCK);
    this.itableBlocks = inodesPerGroup / INODES_PER_BLOCK;
  }

  /**
   * The smallest geometry whose groups hold dataBlocks blocks besides their own metadata and at
   * least inodes inodes; its last group holds at least one data block, never metadata only.
   */
  static Ext4Geometry fit(long dataBlocks, long inodes) {
    long start = Math.max(1, ceilDiv(dataBlocks, BLOCKS_PER_GROUP));
    for (long groups = start; groups * BLOCKS_PER_GROUP <= MAX_BLOCKS + BLOCKS_PER_GROUP; ) {
      // Whole inode-table blocks; a group's inode bitmap is one block, so 32768 inodes at most.
      long perGroup = Math.max(INODES_PER_BLOCK, roundUp(ceilDiv(inodes, groups), INODES_PER_BLOCK));
      if (perGroup > BLOCKS_PER_GROUP) {
        groups++;
        continue;
      }
      Ext4Geometry probe = new Ext4Geometry(groups * BLOCKS_PER_GROUP, (int) groups, (int) perGroup);
      long total = dataBlocks;
      for (int g = 0; g < groups; g++) {
        total += probe.overhead(g);
      }
      if (total <= groups * BLOCKS_PER_GROUP) {
        // The last group holds at least one data block besides its metadata.
        total = Math.max(total, (groups - 1) * BLOCKS_PER_GROUP + probe.overhead((int) groups - 1) + 1);
        if (total > MAX_BLOCKS - 1) {
          break;
        }
        return new Ext4Geometry(total, (int) groups, (int) perGroup);
      }
      // Fewer groups than the blocks they would need cannot fit: jump there, not one by one.
      groups = Math.max(groups + 1, ceilDiv(total, BLOCKS_PER_GROUP));
    }
    throw new IllegalArgumentException("an ext4 image of " + dataBlocks + " data blocks and " + inodes
        + " inodes is larger than the 16 TiB a 32-bit ext4 can address");
  }

  /** sparse_super: groups 0 and 1 and the powers of 3, 5 and 7 keep a superblock copy. */
  static boolean hasSuper(long group) {
    if (group <= 1) {
      return true;
    }
    return isPower(group, 3) || isPower(group, 5) || isPower(group, 7);
  }

  private static boolean isPower(long value, int base) {
    long power = base;
    while (power < value) {
      power *= base;
    }
    return power == value;
  }

  long groupStart(int group) {
    return (long) group * BLOCKS_PER_GROUP;
  }

  /** Blocks of the group (the last one may be shorter). */
  int groupBlocks(int group) {
    return (int) Math.min(BLOCKS_PER_GROUP, blocks - groupStart(group));
  }

  long blockBitmap(int group) {
    return groupStart(group) + (hasSuper(group) ? 1 + gdtBlocks : 0);
  }

  long inodeBitmap(int group) {
    return blockBitmap(group) + 1;
  }

  long inodeTable(int group) {
    return blockBitmap(group) + 2;
  }

  /** The group's first block after its metadata. */
  long firstData(int group) {
    return inodeTable(group) + itableBlocks;
  }

  int overhead(int group) {
    return (int) (firstData(group) - groupStart(group));
  }

  long inodes() {
    return (long) groups * inodesPerGroup;
  }

  /**
   * Hands out blocks in order from the first data block, stepping over each group's metadata, so
   * what it has given is always [firstData(g), min(next, groupEnd)) of every group g.
   */
  final class Allocator {
    private long next = firstData(0);

    /** count blocks as runs of {start, length}, in order; a run never crosses a group. */
    List<long[]> take(long count) {
      List<long[]> runs = new ArrayList<>();
      while (count > 0) {
        int group = (int) (next / BLOCKS_PER_GROUP);
        if (group >= groups) {
          throw new IllegalStateException("the image has no room left for " + count + " blocks");
        }
        if (next < firstData(group)) {
          next = firstData(group);
        }
        long end = groupStart(group) + groupBlocks(group);
        long length = Math.min(count, end - next);
        if (length > 0) {
          runs.add(new long[] {next, length});
          next += length;
          count -= length;
        } else {
          next = end;
        }
      }
      return runs;
    }

    /** Data blocks handed out in group g. */
    long usedIn(int group) {
      long end = groupStart(group) + groupBlocks(group);
      return Math.max(0, Math.min(next, end) - firstData(group));
    }
  }

  static long ceilDiv(long value, long unit) {
    return (value + unit - 1) / unit;
  }

  static long roundUp(long value, long unit) {
    return ceilDiv(value, unit) * unit;
  }
}
