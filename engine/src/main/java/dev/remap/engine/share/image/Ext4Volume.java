package dev.remap.engine.share.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;

/**
 * An ext2/3/4 filesystem as {@link Ext4ImageReader} reads it: the superblock's geometry, where
 * every group's inode table is, and inodes. It refuses what it cannot read faithfully (compressed,
 * encrypted or inline-data files, an external journal still to replay, unknown incompatible
 * features), since a listing that silently missed data would be worse than none.
 *
 * <p>A filesystem still mounted when its snapshot was taken (needs_recovery) has its journal
 * replayed in memory ({@link Ext4Journal}) and every block but the superblock is read through the
 * replay's overlay. The journal inode itself is read from its home location, as the kernel does
 * before replaying: the journal never journals its own inode.
 */
final class Ext4Volume {

  static final int FEATURE_64BIT = 0x80;
  private static final int INCOMPAT_COMPRESSION = 0x1;
  private static final int INCOMPAT_RECOVER = 0x4;
  private static final int INCOMPAT_JOURNAL_DEV = 0x8;
  private static final int INCOMPAT_META_BG = 0x10;
  private static final int INCOMPAT_DIRDATA = 0x1000;
  private static final int INCOMPAT_INLINE_DATA = 0x8000;
  private static final int INCOMPAT_ENCRYPT = 0x10000;
  /**
   * filetype, recover (the journal is replayed in memory), meta_bg, extents, 64bit, mmp, flex_bg,
   * ea_inode, csum_seed, largedir, casefold.
   */
  private static final int INCOMPAT_READABLE = 0x2 | INCOMPAT_RECOVER | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x2000 | 0x4000
      | 0x20000;
  private static final int COMPAT_HAS_JOURNAL = 0x4;
  private static final int COMPAT_SPARSE_SUPER2 = 0x200;
  private static final int RO_SPARSE_SUPER = 0x1;

  /** An inode's fields the listing needs; iBlock is its 60-byte block map or extent root. */
  record Inode(long number, int mode, long size, int flags, Instant modified, byte[] iBlock) {
    boolean isDirectory() {
      return (mode & 0xF000) == 0x4000;
    }

    boolean isRegular() {
      return (mode & 0xF000) == 0x8000;
    }
  }

  final ImageReader.Blocks image;
  final int blockSize;
  final long blocks;
  final long inodes;
  final boolean fileType;
  private final int inodesPerGroup;
  private final int inodeSize;
  private final long[] inodeTables;
  private final long firstData;
  private final long blocksPerGroup;
  private final int descSize;
  private final long firstMetaBg;
  private final Backups backups;
  /** The replayed journal; NONE until replayed, so the journal inode is read from home. */
  private Ext4Journal journal = Ext4Journal.NONE;
  /** Blocks read from the journal instead of their home (tests check a replay was used). */
  private long journalReads;

  private Ext4Volume(ImageReader.Blocks image, ByteBuffer sb) throws IOException {
    this.image = image;
    int log = sb.getInt(24);
    if (log < 0 || log > 6) {
      throw damaged("the superblock's block size 2^(10+" + log + ") is not one ext4 uses");
    }
    blockSize = 1024 << log;
    int incompat = sb.getInt(96);
    refuse(incompat);
    fileType = (incompat & 0x2) != 0;
    boolean wide = (incompat & FEATURE_64BIT) != 0;
    blocks = Integer.toUnsignedLong(sb.getInt(4)) | (wide ? Integer.toUnsignedLong(sb.getInt(336)) << 32 : 0);
    inodes = Integer.toUnsignedLong(sb.getInt(0));
    firstData = Integer.toUnsignedLong(sb.getInt(20));
    blocksPerGroup = Integer.toUnsignedLong(sb.getInt(32));
    inodesPerGroup = sb.getInt(40);
    inodeSize = sb.getInt(76) == 0 ? 128 : Short.toUnsignedInt(sb.getShort(88));
    descSize = wide ? Short.toUnsignedInt(sb.getShort(254)) : 32;
    if (blocksPerGroup <= 0 || blocksPerGroup > 8L * blockSize || inodesPerGroup <= 0
        || inodesPerGroup > 8 * blockSize || inodeSize < 128 || inodeSize > blockSize
        || Integer.bitCount(inodeSize) != 1 || descSize < 32 || descSize > 1024 || Integer.bitCount(descSize) != 1
        || firstData >= blocks) {
      throw damaged("its superblock holds impossible geometry (" + blocks + " blocks of " + blockSize
          + " bytes, " + blocksPerGroup + " blocks and " + inodesPerGroup + " inodes per group, inodes of "
          + inodeSize + " bytes, descriptors of " + descSize + " bytes)");
    }
    long groups = Ext4Geometry.ceilDiv(blocks - firstData, blocksPerGroup);
    if (groups * inodesPerGroup != inodes) {
      throw damaged("its " + groups + " groups of " + inodesPerGroup + " inodes do not make " + inodes + " inodes");
    }
    inodeTables = new long[(int) groups];
    boolean metaBg = (incompat & INCOMPAT_META_BG) != 0;
    firstMetaBg = metaBg ? Integer.toUnsignedLong(sb.getInt(260)) : Long.MAX_VALUE;
    backups = new Backups(sb.getInt(92), sb.getInt(100), sb.getInt(588), sb.getInt(592));
    readDescriptors();
    if ((incompat & INCOMPAT_RECOVER) != 0) {
      replay(sb.getInt(92), Integer.toUnsignedLong(sb.getInt(224)));
      // The group descriptors may themselves have newer copies in the journal.
      readDescriptors();
    }
  }

  /** Replays the internal journal (inode journalInode) into the overlay. */
  private void replay(int compat, long journalInode) throws IOException {
    if ((compat & COMPAT_HAS_JOURNAL) == 0) {
      throw damaged("it needs journal recovery but has no journal");
    }
    if (journalInode == 0) {
      throw new IOException("The ext4 image's journal, on another device, still holds changes to replay;"
          + " this reader cannot read an external journal, so let e2fsck or a mount replay it first.");
    }
    Inode inode = inode(journalInode);
    if (!inode.isRegular()) {
      throw damaged("its journal inode " + journalInode + " is not a regular file");
    }
    journal = Ext4Journal.replay(image, blockSize, blocks, Ext4Mapping.of(this, inode));
  }

  private void readDescriptors() throws IOException {
    int perBlock = blockSize / descSize;
    ByteBuffer table = null;
    long tableIndex = -1;
    for (int g = 0; g < inodeTables.length; g++) {
      long index = g / perBlock;
      if (index != tableIndex) {
        long at;
        if (index < firstMetaBg) {
          at = firstData + 1 + index;
        } else {
          // meta_bg: each group of descriptors lives in the first group it describes.
          long group = index * perBlock;
          at = firstData + group * blocksPerGroup + (backups.has(group) ? 1 : 0);
        }
        table = block(at);
        tableIndex = index;
      }
      int offset = (g % perBlock) * descSize;
      long low = Integer.toUnsignedLong(table.getInt(offset + 8));
      long high = descSize >= 64 ? Integer.toUnsignedLong(table.getInt(offset + 0x28)) << 32 : 0;
      inodeTables[g] = low | high;
    }
  }

  /** Which groups keep a superblock copy (sparse_super, sparse_super2 or every group). */
  private record Backups(int compat, int roCompat, int first, int second) {
    boolean has(long group) {
      if (group == 0) {
        return true;
      }
      if ((compat & COMPAT_SPARSE_SUPER2) != 0) {
        return group == Integer.toUnsignedLong(first) || group == Integer.toUnsignedLong(second);
      }
      if ((roCompat & RO_SPARSE_SUPER) == 0 || group == 1) {
        return true;
      }
      return Ext4Geometry.hasSuper(group);
    }
  }

  static Ext4Volume open(ImageReader.Blocks image) throws IOException {
    if (image.size() < 2048) {
      throw new IOException("The image (" + image.size() + " bytes) is too small to hold an ext4 superblock.");
    }
    ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
    image.read(1024, sb);
    sb.flip();
    if (Short.toUnsignedInt(sb.getShort(56)) != Ext4Superblock.MAGIC) {
      throw new IOException("The image is not an ext2/3/4 filesystem: byte 1080 does not hold the magic 0xEF53.");
    }
    return new Ext4Volume(image, sb);
  }

  private static void refuse(int incompat) throws IOException {
    int[] bits = {INCOMPAT_COMPRESSION, INCOMPAT_JOURNAL_DEV, INCOMPAT_DIRDATA, INCOMPAT_INLINE_DATA,
        INCOMPAT_ENCRYPT};
    String[] names = {"compression", "journal_dev", "dirdata", "inline_data", "encrypt"};
    for (int i = 0; i < bits.length; i++) {
      if ((incompat & bits[i]) != 0) {
        throw new IOException("The ext4 image uses the feature " + names[i] + ", which this reader cannot read.");
      }
    }
    int unknown = incompat & ~INCOMPAT_READABLE & ~(INCOMPAT_COMPRESSION | INCOMPAT_JOURNAL_DEV | INCOMPAT_DIRDATA
        | INCOMPAT_INLINE_DATA | INCOMPAT_ENCRYPT);
    if (unknown != 0) {
      throw new IOException("The ext4 image uses incompatible features 0x" + Integer.toHexString(unknown)
          + " this reader does not know.");
    }
  }

  /** Block n of the filesystem (its newest copy), checked to lie inside the filesystem and the image. */
  ByteBuffer block(long n) throws IOException {
    check(n, 1, "a metadata block");
    ByteBuffer buffer = ByteBuffer.allocate(blockSize).order(ByteOrder.LITTLE_ENDIAN);
    read(n, 0, buffer);
    return buffer.flip();
  }

  /** Fills dst from byte within of block n's newest copy: the journal's if it has one, else home. */
  private void read(long n, int within, ByteBuffer dst) throws IOException {
    Ext4Journal.Copy copy = journal.copyOf(n);
    if (copy == null) {
      image.read(n * blockSize + within, dst);
      return;
    }
    journalReads++;
    int start = dst.position();
    image.read(copy.imageOffset() + within, dst);
    // The journal stores a block that began with its magic with those 4 bytes zeroed.
    for (int i = within; copy.escaped() && i < 4 && start + i - within < dst.position(); i++) {
      dst.put(start + i - within, (byte) (Ext4Journal.MAGIC >>> (24 - 8 * i)));
    }
  }

  void check(long start, long count, String what) throws IOException {
    if (start < 0 || count < 0 || start + count > blocks || (start + count) * blockSize > image.size()) {
      throw damaged(what + " points at blocks " + start + "+" + count + ", outside the " + blocks
          + "-block filesystem or the " + image.size() + "-byte image");
    }
  }

  Inode inode(long number) throws IOException {
    if (number < 1 || number > inodes) {
      throw damaged("a directory names inode " + number + ", outside 1.." + inodes);
    }
    long index = number - 1;
    int group = (int) (index / inodesPerGroup);
    long offset = (index % inodesPerGroup) * inodeSize;
    long block = inodeTables[group] + offset / blockSize;
    check(block, 1, "inode " + number);
    ByteBuffer b = ByteBuffer.allocate(inodeSize).order(ByteOrder.LITTLE_ENDIAN);
    read(block, (int) (offset % blockSize), b);
    b.flip();
    int mode = Short.toUnsignedInt(b.getShort(0));
    long size = Integer.toUnsignedLong(b.getInt(4)) | Integer.toUnsignedLong(b.getInt(108)) << 32;
    int seconds = b.getInt(16);
    int extra = 0;
    // The extra timestamps exist when the inode's extra part reaches past i_mtime_extra.
    if (inodeSize > 128 && Short.toUnsignedInt(b.getShort(128)) >= 12) {
      extra = b.getInt(136);
    }
    byte[] iBlock = new byte[60];
    b.get(40, iBlock);
    return new Inode(number, mode, size, b.getInt(32), Ext4Encoding.decodeTime(seconds, extra), iBlock);
  }

  Ext4Journal journal() {
    return journal;
  }

  long journalReads() {
    return journalReads;
  }

  IOException damaged(String what) {
    return new IOException("The ext4 image is damaged: " + what + ".");
  }
}
