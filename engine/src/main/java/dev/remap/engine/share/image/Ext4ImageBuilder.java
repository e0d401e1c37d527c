package dev.remap.engine.share.image;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Lays out files as an ext4 filesystem whose files are contiguous runs the caller maps onto the
 * files' objects (see {@link Ext4Superblock} for the features and why). The order on disk is
 * group 0's metadata, the journal (contiguous, only its superblock written), every directory's
 * blocks, then the files one after another, each followed by its extent tree blocks when it has
 * more than four extents (a file crossing a group's metadata gets one extent per piece); what
 * follows is free space for the guest. Inodes: 1-10 reserved, 2 the root, 8 the journal, 11
 * lost+found, then folders and files in tree order from 12.
 */
public final class Ext4ImageBuilder implements ImageBuilder {

  private static final int BLOCK = Ext4Geometry.BLOCK;
  private static final long GIB = 1L << 30;
  /** ext4 (4 KiB blocks, extents) holds files up to 2^32 - 1 blocks. */
  static final long MAX_FILE = ((1L << 32) - 1) * BLOCK;

  @Override
  public BuiltImage build(List<ImageFile> files, List<List<String>> directories, ImageSpec spec) {
    Ext4Tree tree = Ext4Tree.of(files, directories);
    List<BuiltImage.Skipped> skipped = new ArrayList<>(tree.skipped);
    List<Ext4Tree.Node> nodes = new ArrayList<>();
    for (Ext4Tree.Node node : tree.nodes()) {
      if (!node.isDirectory() && files.get(node.file).size() > MAX_FILE) {
        skipped.add(new BuiltImage.Skipped(node.file, "File " + files.get(node.file).display()
            + " is not on the ext4 image: its " + files.get(node.file).size()
            + " bytes are more than the " + MAX_FILE + " an ext4 file can hold."));
        node.parent.children.remove(new String(node.name, StandardCharsets.UTF_8));
      } else {
        nodes.add(node);
      }
    }
    skipped.sort((a, b) -> Integer.compare(a.file(), b.file()));
    List<Ext4Tree.Node> dirs = new ArrayList<>();
    dirs.add(tree.root);
    long dataBlocks = Ext4Geometry.ceilDiv(spec.freeSpace(), BLOCK);
    dataBlocks += Ext4Encoding.directoryBlocks(entries(tree.root));
    for (Ext4Tree.Node node : nodes) {
      if (node.isDirectory()) {
        dirs.add(node);
        dataBlocks += Ext4Encoding.directoryBlocks(entries(node));
      } else {
        long blocks = Ext4Geometry.ceilDiv(files.get(node.file).size(), BLOCK);
        // Sizing only: a file gets at most one extent per group it crosses, plus one.
        dataBlocks += blocks + Ext4Encoding.treeBlocks(Ext4Geometry.ceilDiv(blocks, Ext4Geometry.MIN_SPAN) + 1);
      }
    }
    long inodes = Ext4Superblock.FIRST_INODE + nodes.size() + Math.max(16, spec.freeSpace() / 16384);
    // The kernel keeps min(2%, 4096) blocks back from the guest (s_resv_clusters, for delayed
    // allocation), so they come on top of the free space asked for; the journal is 16 MiB below
    // 1 GiB and 32 MiB from there.
    int journal = 4096;
    long reserve = 0;
    Ext4Geometry geometry = Ext4Geometry.fit(dataBlocks + journal, inodes);
    while (true) {
      int wantJournal = geometry.blocks * BLOCK >= GIB ? 8192 : 4096;
      long wantReserve = Math.min(4096, geometry.blocks / 50);
      if (wantJournal <= journal && wantReserve <= reserve) {
        break;
      }
      journal = Math.max(journal, wantJournal);
      reserve = Math.max(reserve, wantReserve);
      geometry = Ext4Geometry.fit(dataBlocks + journal + reserve, inodes);
    }
    return new Layout(geometry, files, spec, tree, dirs, nodes, journal).write(skipped);
  }

  /** The entries of a directory, "." and ".." first. */
  private static List<Ext4Encoding.DirEntry> entries(Ext4Tree.Node dir) {
    List<Ext4Encoding.DirEntry> entries = new ArrayList<>();
    entries.add(new Ext4Encoding.DirEntry(dir.inode, ".".getBytes(StandardCharsets.UTF_8), Ext4Encoding.TYPE_DIR));
    int parent = dir.parent == null ? dir.inode : dir.parent.inode;
    entries.add(new Ext4Encoding.DirEntry(parent, "..".getBytes(StandardCharsets.UTF_8), Ext4Encoding.TYPE_DIR));
    for (Ext4Tree.Node child : dir.children.values()) {
      entries.add(new Ext4Encoding.DirEntry(child.inode, child.name,
          child.isDirectory() ? Ext4Encoding.TYPE_DIR : Ext4Encoding.TYPE_FILE));
    }
    return entries;
  }

  /** One build: allocates blocks and inodes, then encodes every metadata block. */
  private static final class Layout {
    private final Ext4Geometry geometry;
    private final List<ImageFile> files;
    private final ImageSpec spec;
    private final Ext4Tree tree;
    private final List<Ext4Tree.Node> dirs;
    private final List<Ext4Tree.Node> nodes;
    private final int journalBlocks;
    private final Ext4Geometry.Allocator allocator;
    /** Metadata blocks by block number; all-zero blocks are never added. */
    private final TreeMap<Long, byte[]> blocks = new TreeMap<>();
    private final Map<Integer, byte[]> inodes = new HashMap<>();
    private final List<BuiltImage.Placement> placements = new ArrayList<>();

    Layout(Ext4Geometry geometry, List<ImageFile> files, ImageSpec spec, Ext4Tree tree, List<Ext4Tree.Node> dirs,
        List<Ext4Tree.Node> nodes, int journalBlocks) {
      this.geometry = geometry;
      this.files = files;
      this.spec = spec;
      this.tree = tree;
      this.dirs = dirs;
      this.nodes = nodes;
      this.journalBlocks = journalBlocks;
      this.allocator = geometry.new Allocator();
    }

    BuiltImage write(List<BuiltImage.Skipped> skipped) {
      tree.root.inode = 2;
      tree.lostAndFound.inode = Ext4Superblock.FIRST_INODE;
      int next = Ext4Superblock.FIRST_INODE + 1;
      for (Ext4Tree.Node node : nodes) {
        if (node != tree.lostAndFound) {
          node.inode = next++;
        }
      }
      int lastInode = next - 1;
      byte[] uuid = uuid("ext4 uuid " + spec.serial());
      List<long[]> journalRuns = allocator.take(journalBlocks);
      if (journalRuns.size() != 1) {
        throw new IllegalStateException("the journal must be contiguous");
      }
      byte[] journalRoot = inode(Ext4Superblock.JOURNAL_INODE, 0100600, (long) journalBlocks * BLOCK, 1,
          spec.created(), journalRuns);
      put(journalRuns.get(0)[0], Ext4Encoding.journalSuperblock(journalBlocks, uuid));
      for (Ext4Tree.Node dir : dirs) {
        List<byte[]> content = Ext4Encoding.directory(entries(dir));
        dir.runs = allocator.take(content.size());
        int index = 0;
        for (long[] run : dir.runs) {
          for (long b = run[0]; b < run[0] + run[1]; b++) {
            put(b, content.get(index++));
          }
        }
        int subdirs = dir.subdirectories();
        // dir_nlink: a folder with more subfolders than a link count holds says 1.
        int links = (2 + subdirs > 65000) ? 1 : 2 + subdirs;
        inode(dir.inode, (dir == tree.lostAndFound ? 040700 : 040755), (long) content.size() * BLOCK, links,
            spec.created(), dir.runs);
      }
      for (Ext4Tree.Node node : nodes) {
        if (!node.isDirectory()) {
          ImageFile file = files.get(node.file);
          node.runs = allocator.take(Ext4Geometry.ceilDiv(file.size(), BLOCK));
          long offset = 0;
          for (long[] run : node.runs) {
            long length = Math.min(run[1] * BLOCK, file.size() - offset);
            placements.add(new BuiltImage.Placement(node.file, offset, run[0] * BLOCK, length));
            offset += length;
          }
          inode(node.inode, 0100644, file.size(), 1, file.modified(), node.runs);
        }
      }
      writeInodeTables();
      Ext4Superblock.Fields fields = groups(lastInode, uuid, journalRoot);
      for (int g = 0; g < geometry.groups; g++) {
        if (Ext4Geometry.hasSuper(g)) {
          byte[] first = blocks.computeIfAbsent(geometry.groupStart(g), k -> new byte[BLOCK]);
          // Group 0's superblock sits 1024 bytes into block 0; a backup starts its block.
          System.arraycopy(Ext4Superblock.encode(geometry, fields, g), 0, first, g == 0 ? 1024 : 0, 1024);
        }
      }
      return new BuiltImage(geometry.blocks * BLOCK, BLOCK, runs(), placements, skipped);
    }

    /**
     * Encodes an inode over runs, allocating its extent tree blocks after them; returns the
     * 60-byte extent root.
     */
    private byte[] inode(int number, int mode, long size, int links, Instant time, List<long[]> runs) {
      Ext4Encoding.ExtentTree extents = Ext4Encoding.extentTree(runs, () -> allocator.take(1).get(0)[0]);
      long owned = extents.treeBlocks();
      for (long[] run : runs) {
        owned += run[1];
      }
      for (int i = 0; i < extents.blocks().size(); i++) {
        put(extents.blocksAt().get(i), extents.blocks().get(i));
      }
      inodes.put(number, Ext4Encoding.inode(mode, size, links, owned, time, extents.root()));
      return extents.root();
    }

    private void writeInodeTables() {
      for (Map.Entry<Integer, byte[]> entry : inodes.entrySet()) {
        long index = entry.getKey() - 1L;
        int group = (int) (index / geometry.inodesPerGroup);
        long inGroup = index % geometry.inodesPerGroup;
        long block = geometry.inodeTable(group) + inGroup / Ext4Geometry.INODES_PER_BLOCK;
        byte[] bytes = blocks.computeIfAbsent(block, k -> new byte[BLOCK]);
        System.arraycopy(entry.getValue(), 0, bytes,
            (int) (inGroup % Ext4Geometry.INODES_PER_BLOCK) * Ext4Geometry.INODE_SIZE, Ext4Geometry.INODE_SIZE);
      }
    }

    /** Bitmaps and descriptors of every group (with backups); the superblock's fields. */
    private Ext4Superblock.Fields groups(int lastInode, byte[] uuid, byte[] journalRoot) {
      byte[] table = new byte[geometry.gdtBlocks * BLOCK];
      ByteBuffer descriptors = Ext4Encoding.le(table);
      long freeBlocks = 0;
      long freeInodes = 0;
      int ipg = geometry.inodesPerGroup;
      for (int g = 0; g < geometry.groups; g++) {
        int size = geometry.groupBlocks(g);
        int used = geometry.overhead(g) + (int) allocator.usedIn(g);
        byte[] blockBitmap = new byte[BLOCK];
        setBits(blockBitmap, 0, used);
        // Bits past the end of a short last group are set, as e2fsck checks.
        setBits(blockBitmap, size, Ext4Geometry.BLOCKS_PER_GROUP);
        put(geometry.blockBitmap(g), blockBitmap);
        long firstInode = (long) g * ipg + 1;
        int usedInodes = (int) Math.max(0, Math.min(ipg, lastInode - firstInode + 1));
        byte[] inodeBitmap = new byte[BLOCK];
        setBits(inodeBitmap, 0, usedInodes);
        setBits(inodeBitmap, ipg, 8 * BLOCK);
        put(geometry.inodeBitmap(g), inodeBitmap);
        int directories = 0;
        for (Ext4Tree.Node dir : dirs) {
          directories += (dir.inode - 1) / ipg == g ? 1 : 0;
        }
        Ext4Superblock.descriptor(descriptors, g, geometry, size - used, ipg - usedInodes, directories);
        freeBlocks += size - used;
        freeInodes += ipg - usedInodes;
      }
      for (int g = 0; g < geometry.groups; g++) {
        if (Ext4Geometry.hasSuper(g)) {
          for (int i = 0; i < geometry.gdtBlocks; i++) {
            byte[] block = new byte[BLOCK];
            System.arraycopy(table, i * BLOCK, block, 0, BLOCK);
            put(geometry.groupStart(g) + 1 + i, block);
          }
        }
      }
      return new Ext4Superblock.Fields(freeBlocks, freeInodes, uuid, uuid("ext4 hash seed " + spec.serial()),
          Ext4Superblock.label(spec.label()), spec.created(), journalRoot, (long) journalBlocks * BLOCK);
    }

    private void put(long block, byte[] bytes) {
      for (byte value : bytes) {
        if (value != 0) {
          blocks.put(block, bytes);
          return;
        }
      }
    }

    /** Consecutive metadata blocks merged into runs. */
    private List<BuiltImage.Written> runs() {
      List<BuiltImage.Written> out = new ArrayList<>();
      List<Map.Entry<Long, byte[]>> entries = new ArrayList<>(blocks.entrySet());
      for (int from = 0; from < entries.size(); ) {
        int to = from + 1;
        while (to < entries.size() && entries.get(to).getKey() == entries.get(to - 1).getKey() + 1) {
          to++;
        }
        byte[] run = new byte[(to - from) * BLOCK];
        for (int i = from; i < to; i++) {
          System.arraycopy(entries.get(i).getValue(), 0, run, (i - from) * BLOCK, BLOCK);
        }
        out.add(new BuiltImage.Written(entries.get(from).getKey() * BLOCK, run));
        from = to;
      }
      return out;
    }
  }

  private static void setBits(byte[] bitmap, int from, int to) {
    for (int bit = from; bit < to; bit++) {
      bitmap[bit >> 3] |= (byte) (1 << (bit & 7));
    }
  }

  /** A UUID from the serial alone, so the same spec gives the same filesystem identity. */
  private static byte[] uuid(String seed) {
    UUID uuid = UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8));
    return ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits())
        .putLong(uuid.getLeastSignificantBits()).array();
  }
}
