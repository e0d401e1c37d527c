package dev.remap.engine.share.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The jbd2 journal of an ext3/4 image, replayed in memory as e2fsck and the kernel replay it,
 * without writing to the image. A snapshot of a mounted filesystem (needs_recovery set) may hold
 * its newest metadata only in the journal: committed there but not yet written to its home
 * block. The replay yields an overlay, home block → the journal block holding its newest
 * committed copy, through which {@link Ext4Volume} reads every block but the superblock.
 *
 * <p>Like the kernel's three passes (scan, revoke, replay) in one walk: from s_start, blocks are
 * taken while their magic and sequence are the expected ones (wrapping from s_maxlen to s_first);
 * a transaction counts only once its commit block is seen, so a torn last transaction is left
 * out. A block revoked in transaction R is not replayed from any transaction T with T ≤ R.
 * Checksums (v2/v3, async_commit) are not verified, but their layouts (wider tags, block tails)
 * are honoured. Fast commits are refused: their logical replay is the filesystem's, not jbd2's.
 */
final class Ext4Journal {

  static final int MAGIC = 0xC03B3998;
  private static final int DESCRIPTOR = 1;
  private static final int COMMIT = 2;
  private static final int SUPERBLOCK_V1 = 3;
  private static final int SUPERBLOCK_V2 = 4;
  private static final int REVOKE = 5;
  private static final int INCOMPAT_REVOKE = 0x1;
  private static final int INCOMPAT_64BIT = 0x2;
  private static final int INCOMPAT_ASYNC_COMMIT = 0x4;
  private static final int INCOMPAT_CSUM_V2 = 0x8;
  private static final int INCOMPAT_CSUM_V3 = 0x10;
  private static final int INCOMPAT_FAST_COMMIT = 0x20;
  private static final int FLAG_ESCAPE = 0x1;
  private static final int FLAG_SAME_UUID = 0x2;
  private static final int FLAG_LAST_TAG = 0x8;

  /**
   * The newest committed copy of a home block: at imageOffset of the image. escaped: the block
   * began with the journal's magic, which the journal stores as zeros; reads put it back.
   */
  record Copy(long imageOffset, boolean escaped) {}

  /** Nothing to replay: a cleanly unmounted filesystem, or a journal with an empty log. */
  static final Ext4Journal NONE = new Ext4Journal(new TreeMap<>(), 0, Set.of());

  private final NavigableMap<Long, Copy> overlay;
  /** Complete transactions replayed, and the blocks their revoke records name (for tests). */
  final int transactions;
  final Set<Long> revoked;

  private Ext4Journal(NavigableMap<Long, Copy> overlay, int transactions, Set<Long> revoked) {
    this.overlay = Collections.unmodifiableNavigableMap(overlay);
    this.transactions = transactions;
    this.revoked = Set.copyOf(revoked);
  }

  /** Home block → its newest copy in the journal. */
  NavigableMap<Long, Copy> overlay() {
    return overlay;
  }

  Copy copyOf(long homeBlock) {
    return overlay.get(homeBlock);
  }

  private record Tag(long target, long logBlock, boolean escaped) {}

  private static final class Transaction {
    final int sequence;
    final List<Tag> tags = new ArrayList<>();
    final List<Long> revoked = new ArrayList<>();

    Transaction(int sequence) {
      this.sequence = sequence;
    }
  }

  /**
   * Replays the journal whose bytes are at extents (the journal inode's mapping, file order).
   * fsBlocks bounds the home blocks a tag may name.
   */
  static Ext4Journal replay(ImageReader.Blocks image, int blockSize, long fsBlocks, List<ImageReader.Extent> extents)
      throws IOException {
    return new Walk(image, blockSize, fsBlocks, extents).run();
  }

  /** The journal inode's blocks as the log sees them, and one pass over its committed part. */
  private static final class Walk {
    private final ImageReader.Blocks image;
    private final int blockSize;
    private final long fsBlocks;
    private final NavigableMap<Long, ImageReader.Extent> byLogBlock = new TreeMap<>();
    private long first;
    private long last;
    private boolean wide;
    private boolean checksums;
    private boolean tag3;

    Walk(ImageReader.Blocks image, int blockSize, long fsBlocks, List<ImageReader.Extent> extents) {
      this.image = image;
      this.blockSize = blockSize;
      this.fsBlocks = fsBlocks;
      for (ImageReader.Extent extent : extents) {
        byLogBlock.put(extent.fileOffset() / blockSize, extent);
      }
    }

    Ext4Journal run() throws IOException {
      ByteBuffer sb = read(0);
      int type = sb.getInt(4);
      if (sb.getInt(0) != MAGIC || (type != SUPERBLOCK_V1 && type != SUPERBLOCK_V2)) {
        throw damaged("its journal's superblock has no jbd2 magic");
      }
      if (sb.getInt(12) != blockSize) {
        throw damaged("its journal's block size " + sb.getInt(12) + " is not the filesystem's " + blockSize);
      }
      long maxlen = Integer.toUnsignedLong(sb.getInt(16));
      first = Integer.toUnsignedLong(sb.getInt(20));
      int sequence = sb.getInt(24);
      long start = Integer.toUnsignedLong(sb.getInt(28));
      int incompat = type == SUPERBLOCK_V2 ? sb.getInt(0x28) : 0;
      if ((incompat & INCOMPAT_FAST_COMMIT) != 0) {
        throw new IOException("The ext4 image's journal uses fast commits, which this reader cannot replay;"
            + " let e2fsck or a mount replay the journal first.");
      }
      int known = INCOMPAT_REVOKE | INCOMPAT_64BIT | INCOMPAT_ASYNC_COMMIT | INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3;
      if ((incompat & ~known) != 0) {
        throw new IOException("The ext4 image's journal uses incompatible features 0x"
            + Integer.toHexString(incompat & ~known) + " this reader does not know.");
      }
      Map.Entry<Long, ImageReader.Extent> tail = byLogBlock.lastEntry();
      long mapped = tail == null ? 0 : tail.getKey() + Ext4Geometry.ceilDiv(tail.getValue().length(), blockSize);
      if (first < 1 || first >= maxlen || maxlen > mapped || (start != 0 && (start < first || start >= maxlen))) {
        throw damaged("its journal's superblock holds an impossible log (blocks " + first + ".." + maxlen
            + ", start " + start + ", in a journal of " + mapped + " blocks)");
      }
      last = maxlen;
      wide = (incompat & INCOMPAT_64BIT) != 0;
      tag3 = (incompat & INCOMPAT_CSUM_V3) != 0;
      checksums = tag3 || (incompat & INCOMPAT_CSUM_V2) != 0;
      if (start == 0) {
        return NONE; // the log is empty: everything committed is already home
      }
      return replay(committed(start, sequence));
    }

    /** The complete transactions from start, in log order. */
    private List<Transaction> committed(long start, int sequence) throws IOException {
      List<Transaction> done = new ArrayList<>();
      Transaction open = new Transaction(sequence);
      long at = start;
      // A log block is read once at most per pass: a damaged log cannot make the walk endless.
      for (long walked = 0; walked < last - first; ) {
        ByteBuffer b = read(at);
        if (b.getInt(0) != MAGIC || b.getInt(8) != open.sequence) {
          break;
        }
        int type = b.getInt(4);
        at = next(at);
        walked++;
        if (type == DESCRIPTOR) {
          for (Tag tag : tags(b, at)) {
            open.tags.add(tag);
            at = next(at);
            walked++;
          }
        } else if (type == COMMIT) {
          done.add(open);
          open = new Transaction(open.sequence + 1);
        } else if (type == REVOKE) {
          revoked(b, open.revoked);
        } else {
          break; // what jbd2 does with a block type it does not know: the log ends there
        }
      }
      return done;
    }

    private Ext4Journal replay(List<Transaction> done) throws IOException {
      // Per block, the newest transaction that revoked it.
      Map<Long, Integer> revokedIn = new HashMap<>();
      for (Transaction transaction : done) {
        for (long block : transaction.revoked) {
          revokedIn.merge(block, transaction.sequence, (a, b) -> newer(a, b) ? a : b);
        }
      }
      NavigableMap<Long, Copy> overlay = new TreeMap<>();
      for (Transaction transaction : done) {
        for (Tag tag : transaction.tags) {
          Integer revoked = revokedIn.get(tag.target());
          if (revoked != null && !newer(transaction.sequence, revoked)) {
            continue;
          }
          if (tag.target() >= fsBlocks) {
            throw damaged("its journal (transaction " + Integer.toUnsignedString(transaction.sequence)
                + ") writes block " + tag.target() + ", outside the " + fsBlocks + "-block filesystem");
          }
          overlay.put(tag.target(), new Copy(offset(tag.logBlock()), tag.escaped()));
        }
      }
      return new Ext4Journal(overlay, done.size(), revokedIn.keySet());
    }

    /** A descriptor's tags; the data blocks follow the descriptor, one per tag, from at. */
    private List<Tag> tags(ByteBuffer b, long at) {
      int size = tag3 ? 16 : 8 + (checksums ? 2 : 0) + (wide ? 4 : 0);
      int end = blockSize - (checksums ? 4 : 0);
      List<Tag> tags = new ArrayList<>();
      for (int p = 12; p + size <= end; ) {
        long target = Integer.toUnsignedLong(b.getInt(p));
        if (wide) {
          target |= Integer.toUnsignedLong(b.getInt(p + 8)) << 32;
        }
        // t_flags is a 16-bit field at byte 6 in every tag layout (tag3's 32-bit field's low half).
        int flags = Short.toUnsignedInt(b.getShort(p + 6));
        tags.add(new Tag(target, at, (flags & FLAG_ESCAPE) != 0));
        at = next(at);
        p += size + ((flags & FLAG_SAME_UUID) == 0 ? 16 : 0);
        if ((flags & FLAG_LAST_TAG) != 0) {
          break;
        }
      }
      return tags;
    }

    private void revoked(ByteBuffer b, List<Long> into) throws IOException {
      int used = b.getInt(12);
      int record = wide ? 8 : 4;
      if (used < 16 || used > blockSize - (checksums ? 4 : 0)) {
        throw damaged("its journal has a revoke block of " + used + " bytes");
      }
      for (int p = 16; p + record <= used; p += record) {
        into.add(wide ? b.getLong(p) : Integer.toUnsignedLong(b.getInt(p)));
      }
    }

    private long next(long at) {
      return at + 1 >= last ? first : at + 1;
    }

    /** The image offset of the journal's block n. */
    private long offset(long n) throws IOException {
      Map.Entry<Long, ImageReader.Extent> entry = byLogBlock.floorEntry(n);
      long within = entry == null ? -1 : (n - entry.getKey()) * blockSize;
      if (entry == null || within + blockSize > Ext4Geometry.ceilDiv(entry.getValue().length(), blockSize)
          * blockSize) {
        throw damaged("its journal has no block " + n + " (a hole in the journal inode)");
      }
      long offset = entry.getValue().imageOffset() + within;
      if (offset + blockSize > image.size()) {
        throw damaged("its journal's block " + n + " lies past the end of the image");
      }
      return offset;
    }

    private ByteBuffer read(long n) throws IOException {
      ByteBuffer b = ByteBuffer.allocate(blockSize).order(ByteOrder.BIG_ENDIAN);
      image.read(offset(n), b);
      return b.flip();
    }
  }

  /** Whether tid a is after b, in jbd2's wrapping 32-bit sequence space. */
  private static boolean newer(int a, int b) {
    return a - b > 0;
  }

  private static IOException damaged(String what) {
    return new IOException("The ext4 image is damaged: " + what + ".");
  }

  /**
   * A file's extents (home blocks) with every block the overlay holds pointed at its copy in the
   * journal (data=journal mounts journal file data). An escaped copy does not hold the file's
   * bytes in place, so no extent can name them: refused.
   */
  List<ImageReader.Extent> redirect(List<ImageReader.Extent> extents, int blockSize, String file)
      throws IOException {
    if (overlay.isEmpty()) {
      return extents;
    }
    List<ImageReader.Extent> out = new ArrayList<>();
    for (ImageReader.Extent extent : extents) {
      long home = extent.imageOffset() / blockSize;
      long count = Ext4Geometry.ceilDiv(extent.length(), blockSize);
      long done = 0;
      for (Map.Entry<Long, Copy> hit : overlay.subMap(home, true, home + count, false).entrySet()) {
        long at = (hit.getKey() - home) * blockSize;
        if (at > done) {
          out.add(new ImageReader.Extent(extent.fileOffset() + done, extent.imageOffset() + done, at - done));
        }
        if (hit.getValue().escaped()) {
          throw new IOException("The ext4 image's file " + file + " has its newest bytes at file offset "
              + (extent.fileOffset() + at) + " only in the journal, stored escaped; let e2fsck or a mount"
              + " replay the journal first.");
        }
        long length = Math.min(blockSize, extent.length() - at);
        out.add(new ImageReader.Extent(extent.fileOffset() + at, hit.getValue().imageOffset(), length));
        done = at + length;
      }
      if (done < extent.length()) {
        out.add(new ImageReader.Extent(extent.fileOffset() + done, extent.imageOffset() + done,
            extent.length() - done));
      }
    }
    return out;
  }
}
