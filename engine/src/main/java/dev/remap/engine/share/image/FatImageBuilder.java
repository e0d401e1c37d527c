package dev.remap.engine.share.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Lays out files as FAT32 with 512-byte sectors and 4096-byte clusters: 32 reserved sectors
 * (boot sector, FSInfo, backups at 6 and 7), two FATs each a multiple of 8 sectors, so that both
 * FATs and the data region start on 4096-byte boundaries; then the folders' clusters (the root
 * first, at cluster 2) and each file in one run of clusters, in input order. The volume has at
 * least 65525 clusters (fewer would make it FAT16), about 257 MiB, which costs nothing: what
 * is not written reads as zeros.
 *
 * <p>Only the written part of each FAT (the chains, all at its start) and folder clusters that
 * are not all zeros are metadata; free FAT entries and free clusters are zeros already.
 */
public final class FatImageBuilder implements ImageBuilder {

  static final int CLUSTER = 4096;
  static final int SECTORS_PER_CLUSTER = CLUSTER / FatBootSector.SECTOR;
  static final int RESERVED_SECTORS = 32;
  private static final byte[] DOT = ".          ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DOT_DOT = "..         ".getBytes(StandardCharsets.US_ASCII);

  @Override
  public BuiltImage build(List<ImageFile> files, List<List<String>> directories, ImageSpec spec) {
    byte[] label = FatNames.label(spec.label());
    FatTree tree = FatTree.of(files, directories, label != null);
    List<FatTree.Node> folders = tree.directories();

    long next = 2;
    for (FatTree.Node folder : folders) {
      folder.clusters = Math.max(1, ceilDiv((long) folder.slots * FatDirectory.ENTRY, CLUSTER));
      folder.firstCluster = next;
      next += folder.clusters;
    }
    for (int i = 0; i < files.size(); i++) {
      FatTree.Node node = tree.fileNodes[i];
      if (node != null && files.get(i).size() > 0) {
        node.clusters = ceilDiv(files.get(i).size(), CLUSTER);
        node.firstCluster = next;
        next += node.clusters;
      }
    }
    long used = next - 2;
    long clusters = Math.max(FatBootSector.MIN_CLUSTERS, used + ceilDiv(spec.freeSpace(), CLUSTER));
    if (clusters > FatBootSector.MAX_CLUSTERS) {
      throw new IllegalArgumentException("FAT32 holds at most " + FatBootSector.MAX_CLUSTERS + " clusters of "
          + CLUSTER + " bytes; these files and the free space need " + clusters);
    }
    // Each FAT a multiple of 8 sectors: with 32 reserved sectors, every region starts on 4096 bytes.
    long fatSectors = ceilDiv(ceilDiv((clusters + 2) * 4, FatBootSector.SECTOR), SECTORS_PER_CLUSTER)
        * SECTORS_PER_CLUSTER;
    long totalSectors = RESERVED_SECTORS + 2 * fatSectors + clusters * SECTORS_PER_CLUSTER;
    if (totalSectors > 0xFFFFFFFFL) {
      throw new IllegalArgumentException("FAT32 holds at most 2^32-1 sectors; this image needs " + totalSectors);
    }
    FatBootSector geometry = new FatBootSector(FatBootSector.SECTOR, SECTORS_PER_CLUSTER, RESERVED_SECTORS, 2,
        fatSectors, totalSectors, 2, 0);

    Runs runs = new Runs();
    runs.add(0, geometry.encode(spec.serial(), label, clusters - used, used < clusters ? next : -1));
    byte[] fat = fat(folders, tree.fileNodes, next);
    runs.add(geometry.fatOffset(0), fat);
    runs.add(geometry.fatOffset(1), fat);
    for (FatTree.Node folder : folders) {
      runs.add(geometry.clusterOffset(folder.firstCluster), folder(folder, label, files, spec));
    }

    List<BuiltImage.Placement> placements = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      FatTree.Node node = tree.fileNodes[i];
      if (node != null && node.clusters > 0) {
        placements.add(new BuiltImage.Placement(i, 0, geometry.clusterOffset(node.firstCluster), files.get(i).size()));
      }
    }
    return new BuiltImage(geometry.imageSize(), CLUSTER, runs.finish(), placements, tree.skipped);
  }

  /** The start of the FAT: media and clean-shutdown entries, then one chain per folder and file. */
  private static byte[] fat(List<FatTree.Node> folders, FatTree.Node[] files, long next) {
    ByteBuffer fat = ByteBuffer.allocate(Math.toIntExact(ceilDiv(next * 4, CLUSTER) * CLUSTER))
        .order(ByteOrder.LITTLE_ENDIAN);
    fat.putInt(0, 0x0FFFFFF8);
    fat.putInt(4, 0x0FFFFFFF);
    List<FatTree.Node> chains = new ArrayList<>(folders);
    for (FatTree.Node file : files) {
      if (file != null) {
        chains.add(file);
      }
    }
    for (FatTree.Node node : chains) {
      long last = node.firstCluster + node.clusters - 1;
      for (long cluster = node.firstCluster; cluster <= last && node.clusters > 0; cluster++) {
        fat.putInt(Math.toIntExact(cluster * 4), (int) (cluster == last ? FatBootSector.END_OF_CHAIN : cluster + 1));
      }
    }
    return fat.array();
  }

  /** A folder's clusters: ".", ".." (or the root's label), then its entries in the order added. */
  private static byte[] folder(FatTree.Node folder, byte[] label, List<ImageFile> files, ImageSpec spec) {
    ByteBuffer dir = FatDirectory.buffer(Math.toIntExact(folder.clusters * CLUSTER));
    if (folder.parent == null) {
      if (label != null) {
        FatDirectory.writeShort(dir, label, FatDirectory.ATTR_VOLUME, 0, 0, spec.created());
      }
    } else {
      // ".." of a folder in the root says cluster 0, as FAT wants, not the root's cluster.
      long parent = folder.parent.parent == null ? 0 : folder.parent.firstCluster;
      FatDirectory.writeShort(dir, DOT, FatDirectory.ATTR_DIRECTORY, folder.firstCluster, 0, spec.created());
      FatDirectory.writeShort(dir, DOT_DOT, FatDirectory.ATTR_DIRECTORY, parent, 0, spec.created());
    }
    // Names that are 8.3 but for case take their own short name first; the others get "~n" tails.
    Set<String> used = new HashSet<>();
    byte[][] shortNames = new byte[folder.children.size()][];
    for (int pass = 0; pass < 2; pass++) {
      for (int i = 0; i < shortNames.length; i++) {
        String name = folder.children.get(i).name;
        if (FatNames.isLossless(name) == (pass == 0)) {
          shortNames[i] = FatNames.shortName(name, used);
        }
      }
    }
    for (int i = 0; i < shortNames.length; i++) {
      FatTree.Node child = folder.children.get(i);
      if (child.isDirectory()) {
        FatDirectory.write(dir, child.name, shortNames[i], FatDirectory.ATTR_DIRECTORY, child.firstCluster, 0,
            spec.created());
      } else {
        ImageFile file = files.get(child.file);
        FatDirectory.write(dir, child.name, shortNames[i], FatDirectory.ATTR_ARCHIVE, child.firstCluster,
            file.size(), file.modified());
      }
    }
    return dir.array();
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** Metadata runs: blocks of 4096 that are not all zeros, adjacent ones merged. */
  private static final class Runs {
    final List<BuiltImage.Written> written = new ArrayList<>();
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long pendingOffset = -1;

    void add(long offset, byte[] bytes) {
      for (int at = 0; at < bytes.length; at += CLUSTER) {
        int length = Math.min(CLUSTER, bytes.length - at);
        if (!isZero(bytes, at, length)) {
          long blockOffset = offset + at;
          if (pendingOffset < 0 || pendingOffset + pending.size() != blockOffset) {
            flush();
            pendingOffset = blockOffset;
          }
          pending.write(bytes, at, length);
        }
      }
    }

    List<BuiltImage.Written> finish() {
      flush();
      return written;
    }

    private void flush() {
      if (pending.size() > 0) {
        written.add(new BuiltImage.Written(pendingOffset, pending.toByteArray()));
      }
      pending.reset();
      pendingOffset = -1;
    }

    private static boolean isZero(byte[] bytes, int from, int length) {
      for (int i = from; i < from + length; i++) {
        if (bytes[i] != 0) {
          return false;
        }
      }
      return true;
    }
  }
}
