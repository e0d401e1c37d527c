package dev.remap.engine.share.image;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The superblock and group descriptors {@link Ext4ImageBuilder} writes. Features: has_journal;
 * filetype and extents; sparse_super, large_file, huge_file, dir_nlink and extra_isize. Left out
 * on purpose: resize_inode (no reserved GDT blocks to fill), dir_index (linear directories, which
 * the kernel keeps linear), flex_bg, 64bit, metadata_csum and uninit_bg (every count is exact, so
 * nothing is lazily initialized and e2fsck has no checksum to disagree with).
 */
final class Ext4Superblock {

  static final int MAGIC = 0xEF53;
  static final int COMPAT_HAS_JOURNAL = 0x4;
  static final int INCOMPAT_FILETYPE = 0x2;
  static final int INCOMPAT_EXTENTS = 0x40;
  static final int RO_SPARSE_SUPER = 0x1;
  static final int RO_LARGE_FILE = 0x2;
  static final int RO_HUGE_FILE = 0x8;
  static final int RO_DIR_NLINK = 0x20;
  static final int RO_EXTRA_ISIZE = 0x40;
  static final int JOURNAL_INODE = 8;
  static final int FIRST_INODE = 11;
  static final int LABEL_BYTES = 16;

  /** What the superblock says besides the geometry. */
  record Fields(long freeBlocks, long freeInodes, byte[] uuid, byte[] hashSeed, byte[] label, Instant created,
      byte[] journalRoot, long journalBytes) {}

  private Ext4Superblock() {}

  /** The 1024-byte superblock as stored in group's copy (s_block_group_nr = group). */
  static byte[] encode(Ext4Geometry geometry, Fields fields, int group) {
    byte[] bytes = new byte[1024];
    ByteBuffer b = Ext4Encoding.le(bytes);
    b.putInt(0, (int) geometry.inodes());
    b.putInt(4, (int) geometry.blocks);
    b.putInt(12, (int) fields.freeBlocks());
    b.putInt(16, (int) fields.freeInodes());
    b.putInt(20, 0);
    b.putInt(24, 2);
    b.putInt(28, 2);
    b.putInt(32, Ext4Geometry.BLOCKS_PER_GROUP);
    b.putInt(36, Ext4Geometry.BLOCKS_PER_GROUP);
    b.putInt(40, geometry.inodesPerGroup);
    long created = Ext4Encoding.clampSeconds(fields.created().getEpochSecond());
    b.putInt(48, (int) created);
    b.putShort(54, (short) -1);
    b.putShort(56, (short) MAGIC);
    b.putShort(58, (short) 1);
    b.putShort(60, (short) 1);
    b.putInt(64, (int) created);
    b.putInt(76, 1);
    b.putInt(84, FIRST_INODE);
    b.putShort(88, (short) Ext4Geometry.INODE_SIZE);
    b.putShort(90, (short) group);
    b.putInt(92, COMPAT_HAS_JOURNAL);
    b.putInt(96, INCOMPAT_FILETYPE | INCOMPAT_EXTENTS);
    b.putInt(100, RO_SPARSE_SUPER | RO_LARGE_FILE | RO_HUGE_FILE | RO_DIR_NLINK | RO_EXTRA_ISIZE);
    b.put(104, fields.uuid());
    b.put(120, fields.label());
    b.putInt(224, JOURNAL_INODE);
    b.put(236, fields.hashSeed());
    b.put(252, (byte) 1);
    // s_jnl_blocks: a copy of the journal inode's i_block and size, which e2fsck otherwise adds.
    b.put(253, (byte) 1);
    b.put(268, fields.journalRoot());
    b.putInt(268 + 15 * 4, (int) (fields.journalBytes() >>> 32));
    b.putInt(268 + 16 * 4, (int) fields.journalBytes());
    b.putInt(264, (int) created);
    b.putShort(348, (short) Ext4Encoding.EXTRA_ISIZE);
    b.putShort(350, (short) Ext4Encoding.EXTRA_ISIZE);
    // Signed directory hash, as mke2fs sets on x86; e2fsck would otherwise pick one.
    b.putInt(352, 1);
    byte high = (byte) ((created - (int) created) >> 32);
    b.put(0x274, high);
    b.put(0x276, high);
    b.put(0x277, high);
    return bytes;
  }

  /** One 32-byte group descriptor. */
  static void descriptor(ByteBuffer table, int group, Ext4Geometry geometry, int freeBlocks, int freeInodes,
      int directories) {
    int at = group * Ext4Geometry.DESC_SIZE;
    table.putInt(at, (int) geometry.blockBitmap(group));
    table.putInt(at + 4, (int) geometry.inodeBitmap(group));
    table.putInt(at + 8, (int) geometry.inodeTable(group));
    table.putShort(at + 12, (short) freeBlocks);
    table.putShort(at + 14, (short) freeInodes);
    table.putShort(at + 16, (short) directories);
  }

  /** The label cut to 16 bytes of UTF-8 without splitting a character. */
  static byte[] label(String label) {
    byte[] full = label.getBytes(StandardCharsets.UTF_8);
    int length = Math.min(full.length, LABEL_BYTES);
    // Step back over continuation bytes (10xxxxxx) so the cut falls before a character's start.
    if (length < full.length) {
      while (length > 0 && (full[length] & 0xC0) == 0x80) {
        length--;
      }
    }
    byte[] out = new byte[LABEL_BYTES];
    System.arraycopy(full, 0, out, 0, length);
    return out;
  }
}
