package dev.remap.engine.share.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * ext4's on-disk records as the builder writes them: inodes, extent trees, directory blocks and
 * the journal's superblock (the filesystem superblock and group descriptors are in
 * {@link Ext4Superblock}). Field offsets follow the kernel's ext4.h and jbd2.h.
 */
final class Ext4Encoding {

  static final int BLOCK = Ext4Geometry.BLOCK;
  static final int EXTENT_MAGIC = 0xF30A;
  static final int EXTENTS_FL = 0x80000;
  /** An initialized extent covers at most 32768 blocks (a larger length means unwritten). */
  static final int MAX_EXTENT = 32768;
  static final int IN_INODE = 4;
  static final int PER_BLOCK = (BLOCK - 12) / 12;
  static final int MODE_DIR = 0x4000;
  static final int MODE_FILE = 0x8000;
  static final int EXTRA_ISIZE = 32;
  static final int TYPE_FILE = 1;
  static final int TYPE_DIR = 2;

  private Ext4Encoding() {}

  static ByteBuffer le(byte[] bytes) {
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * A 256-byte inode. iBlock is the 60-byte extent root; blocks counts every block the inode
   * owns (data and tree), in 512-byte units as i_blocks wants without huge_file's flag.
   */
  static byte[] inode(int mode, long size, int links, long blocks, Instant time, byte[] iBlock) {
    byte[] bytes = new byte[Ext4Geometry.INODE_SIZE];
    ByteBuffer b = le(bytes);
    b.putShort(0, (short) mode);
    b.putInt(4, (int) size);
    int seconds = (int) clampSeconds(time.getEpochSecond());
    b.putInt(8, seconds);
    b.putInt(12, seconds);
    b.putInt(16, seconds);
    b.putShort(26, (short) links);
    long sectors = blocks * (BLOCK / 512);
    b.putInt(28, (int) sectors);
    b.putInt(32, EXTENTS_FL);
    b.put(40, iBlock);
    b.putInt(108, (int) (size >>> 32));
    b.putShort(116, (short) (sectors >>> 32));
    b.putShort(128, (short) EXTRA_ISIZE);
    int extra = timeExtra(time);
    b.putInt(132, extra);
    b.putInt(136, extra);
    b.putInt(140, extra);
    b.putInt(144, seconds);
    b.putInt(148, extra);
    return bytes;
  }

  /** The range 32-bit seconds plus two epoch bits can hold: 1901 to 2446. */
  static long clampSeconds(long seconds) {
    return Math.max(Integer.MIN_VALUE, Math.min(seconds, Integer.MAX_VALUE + 3L * (1L << 32)));
  }

  /** The *_extra field: nanoseconds above two epoch bits that extend the signed seconds. */
  static int timeExtra(Instant time) {
    long seconds = clampSeconds(time.getEpochSecond());
    long epoch = (seconds - (int) seconds) >> 32;
    return (int) ((long) time.getNano() << 2 | (epoch & 3));
  }

  /** Seconds and nanoseconds back from a timestamp and its *_extra field. */
  static Instant decodeTime(int seconds, int extra) {
    long full = seconds + ((long) (extra & 3) << 32);
    return Instant.ofEpochSecond(full, (extra >>> 2) & 0x3FFFFFFF);
  }

  /** An extent tree: the inode's 60-byte root and the tree blocks it points to. */
  record ExtentTree(byte[] root, List<Long> blocksAt, List<byte[]> blocks) {
    int treeBlocks() {
      return blocks.size();
    }
  }

  /** Splits runs {start, length} into extents of at most 32768 blocks: {logical, start, length}. */
  static List<long[]> extents(List<long[]> runs) {
    List<long[]> extents = new ArrayList<>();
    long logical = 0;
    for (long[] run : runs) {
      for (long done = 0; done < run[1]; done += MAX_EXTENT) {
        long length = Math.min(MAX_EXTENT, run[1] - done);
        extents.add(new long[] {logical, run[0] + done, length});
        logical += length;
      }
    }
    return extents;
  }

  /** Tree blocks an inode of n extents needs: none up to 4, then full levels of 340 entries. */
  static long treeBlocks(long extents) {
    long total = 0;
    long level = extents;
    while (level > IN_INODE) {
      level = Ext4Geometry.ceilDiv(level, PER_BLOCK);
      total += level;
    }
    return total;
  }

  /**
   * The extent tree of runs; tree blocks (when more than 4 extents) come from allocate, one
   * block at a time, leaves first.
   */
  static ExtentTree extentTree(List<long[]> runs, LongSupplier allocate) {
    List<long[]> level = extents(runs);
    List<Long> blocksAt = new ArrayList<>();
    List<byte[]> blocks = new ArrayList<>();
    int depth = 0;
    // Each entry of a level is {first logical block, physical block, length} for leaves and
    // {first logical block, child block} for index levels; build upward until 4 remain.
    while (level.size() > IN_INODE) {
      List<long[]> parents = new ArrayList<>();
      for (int from = 0; from < level.size(); from += PER_BLOCK) {
        List<long[]> part = level.subList(from, Math.min(level.size(), from + PER_BLOCK));
        byte[] block = new byte[BLOCK];
        node(le(block), part, PER_BLOCK, depth);
        long at = allocate.getAsLong();
        blocksAt.add(at);
        blocks.add(block);
        parents.add(new long[] {part.get(0)[0], at});
      }
      level = parents;
      depth++;
    }
    byte[] root = new byte[60];
    node(le(root), level, IN_INODE, depth);
    return new ExtentTree(root, blocksAt, blocks);
  }

  private static void node(ByteBuffer b, List<long[]> entries, int max, int depth) {
    b.putShort(0, (short) EXTENT_MAGIC);
    b.putShort(2, (short) entries.size());
    b.putShort(4, (short) max);
    b.putShort(6, (short) depth);
    int at = 12;
    for (long[] entry : entries) {
      b.putInt(at, (int) entry[0]);
      if (depth == 0) {
        b.putShort(at + 4, (short) entry[2]);
        b.putShort(at + 6, (short) (entry[1] >>> 32));
        b.putInt(at + 8, (int) entry[1]);
      } else {
        b.putInt(at + 4, (int) entry[1]);
        b.putShort(at + 8, (short) (entry[1] >>> 32));
      }
      at += 12;
    }
  }

  /** A directory entry to write: inode, name and type. */
  record DirEntry(int inode, byte[] name, int type) {
    int length() {
      return 8 + (int) Ext4Geometry.roundUp(name.length, 4);
    }
  }

  /** Blocks a linear directory of these entries fills; entries never cross a block. */
  static int directoryBlocks(List<DirEntry> entries) {
    return directory(entries).size();
  }

  /**
   * Linear directory blocks: entries packed in order, the last entry of each block stretched to
   * the block's end (what e2fsck and the kernel expect of a directory without an index).
   */
  static List<byte[]> directory(List<DirEntry> entries) {
    List<byte[]> blocks = new ArrayList<>();
    ByteBuffer b = null;
    int used = BLOCK;
    int last = -1;
    for (DirEntry entry : entries) {
      if (used + entry.length() > BLOCK) {
        if (b != null) {
          b.putShort(last + 4, (short) (BLOCK - last));
        }
        byte[] block = new byte[BLOCK];
        blocks.add(block);
        b = le(block);
        used = 0;
      }
      b.putInt(used, entry.inode());
      b.putShort(used + 4, (short) entry.length());
      b.put(used + 6, (byte) entry.name().length);
      b.put(used + 7, (byte) entry.type());
      b.put(used + 8, entry.name());
      last = used;
      used += entry.length();
    }
    if (b != null) {
      b.putShort(last + 4, (short) (BLOCK - last));
    }
    return blocks;
  }

  /**
   * The jbd2 superblock (big-endian) of an empty, clean internal journal: s_start 0 means
   * nothing to replay, so the rest of the journal may stay zeros.
   */
  static byte[] journalSuperblock(int journalBlocks, byte[] uuid) {
    byte[] bytes = new byte[BLOCK];
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
    b.putInt(0, 0xC03B3998);
    b.putInt(4, 4);
    b.putInt(12, BLOCK);
    b.putInt(16, journalBlocks);
    b.putInt(20, 1);
    b.putInt(24, 1);
    b.put(48, uuid);
    b.putInt(64, 1);
    return bytes;
  }
}
