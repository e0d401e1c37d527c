package dev.remap.engine.share.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lists a FAT32 image as a guest left it: walks the folders from the root cluster, takes long
 * names whose entries are complete and whose checksum matches their short entry (else the short
 * name, lower-cased where byte 12 says), and skips deleted entries, the volume label, "." and
 * "..". A file's extents are its runs of consecutive clusters, the last cut to its size.
 *
 * <p>Every cluster reached is marked, so a chain that loops or two chains sharing a cluster fail
 * with a message instead of looping; so do chains that leave the volume or end early.
 */
public final class FatImageReader implements ImageReader {

  @Override
  public Listing list(Blocks image) throws IOException {
    if (image.size() < FatBootSector.SECTOR) {
      throw new IOException("not a FAT filesystem: the image has only " + image.size() + " bytes");
    }
    FatBootSector boot = FatBootSector.parse(read(image, 0, FatBootSector.SECTOR), image.size());
    return new Walk(image, boot).run();
  }

  static byte[] read(Blocks image, long offset, int length) throws IOException {
    byte[] bytes = new byte[length];
    image.read(offset, ByteBuffer.wrap(bytes));
    return bytes;
  }

  /** One listing: the FAT read in chunks as needed, and the clusters seen so far. */
  private static final class Walk {
    private static final int FAT_CHUNK = 64 * 1024;
    private final Blocks image;
    private final FatBootSector boot;
    private final long maxCluster;
    private final long fatBytes;
    private final BitSet seen = new BitSet();
    private final Map<Long, ByteBuffer> fatChunks = new HashMap<>();
    private final List<FoundFile> files = new ArrayList<>();
    private final List<List<String>> directories = new ArrayList<>();

    Walk(Blocks image, FatBootSector boot) {
      this.image = image;
      this.boot = boot;
      this.maxCluster = boot.clusterCount() + 1;
      this.fatBytes = boot.fatSectors() * boot.bytesPerSector();
    }

    Listing run() throws IOException {
      record Folder(List<String> path, long cluster) {}
      ArrayDeque<Folder> queue = new ArrayDeque<>();
      queue.add(new Folder(List.of(), boot.rootCluster()));
      while (!queue.isEmpty()) {
        Folder folder = queue.removeFirst();
        for (Entry entry : entries(folder.path(), folder.cluster())) {
          List<String> path = new ArrayList<>(folder.path());
          path.add(entry.name);
          if (entry.directory) {
            if (entry.cluster == 0) {
              throw new IOException("damaged FAT32 image: the folder " + display(path) + " has no cluster");
            }
            directories.add(List.copyOf(path));
            queue.addLast(new Folder(List.copyOf(path), entry.cluster));
          } else {
            files.add(new FoundFile(path, entry.size, entry.modified, extents(path, entry.cluster, entry.size)));
          }
        }
      }
      return new Listing(files, directories);
    }

    private record Entry(String name, boolean directory, long cluster, long size, java.time.Instant modified) {}

    /** The entries of the folder at path whose chain starts at first. */
    private List<Entry> entries(List<String> path, long first) throws IOException {
      List<Entry> entries = new ArrayList<>();
      int clusterSize = Math.toIntExact(boot.clusterSize());
      char[][] parts = null;
      int expected = 0;
      byte checksum = 0;
      long cluster = first;
      while (true) {
        claim(cluster, path);
        byte[] bytes = read(image, boot.clusterOffset(cluster), clusterSize);
        for (int at = 0; at < clusterSize; at += FatDirectory.ENTRY) {
          int lead = bytes[at] & 0xFF;
          int attributes = bytes[at + 11] & 0x3F;
          if (lead == 0) {
            return entries;
          }
          if (lead == 0xE5) {
            parts = null;
            continue;
          }
          if (attributes == FatDirectory.ATTR_LONG_NAME) {
            // Long-name entries come last part first (marked 0x40), down to part 1; any break
            // in the order or the checksum drops them and the short name is used.
            int sequence = lead & 0x1F;
            if ((lead & 0x40) != 0 && sequence >= 1 && sequence <= 20) {
              parts = new char[sequence][];
              parts[sequence - 1] = FatDirectory.longUnits(bytes, at);
              expected = sequence - 1;
              checksum = bytes[at + 13];
            } else if (parts != null && sequence == expected && sequence >= 1 && bytes[at + 13] == checksum) {
              parts[sequence - 1] = FatDirectory.longUnits(bytes, at);
              expected--;
            } else {
              parts = null;
            }
            continue;
          }
          byte[] shortName = Arrays.copyOfRange(bytes, at, at + 11);
          String longName = parts != null && expected == 0 && FatNames.checksum(shortName) == checksum
              ? join(parts) : null;
          parts = null;
          if ((attributes & FatDirectory.ATTR_VOLUME) != 0 || lead == '.') {
            // The volume label, and "." and ".." (no other name starts with a dot in a short entry).
            continue;
          }
          String name = longName != null ? longName : FatNames.decodeShort(bytes, at);
          long start = (long) FatDirectory.u16(bytes, at + 20) << 16 | FatDirectory.u16(bytes, at + 26);
          boolean directory = (attributes & FatDirectory.ATTR_DIRECTORY) != 0;
          entries.add(new Entry(name, directory, start, directory ? 0 : FatDirectory.u32(bytes, at + 28),
              FatDirectory.modified(bytes, at)));
        }
        long next = fatEntry(cluster);
        if (next >= 0x0FFFFFF8L) {
          return entries;
        }
        cluster = next(cluster, next, path);
      }
    }

    /** The image ranges of a file of size bytes whose chain starts at first. */
    private List<Extent> extents(List<String> path, long first, long size) throws IOException {
      List<Extent> extents = new ArrayList<>();
      if (size == 0) {
        return extents;
      }
      if (first == 0) {
        throw new IOException("damaged FAT32 image: " + display(path) + " has " + size + " bytes but no clusters");
      }
      long clusterSize = boot.clusterSize();
      long needed = (size + clusterSize - 1) / clusterSize;
      long runStart = first;
      long runFileOffset = 0;
      long cluster = first;
      for (long i = 0; i < needed; i++) {
        claim(cluster, path);
        if (i == needed - 1) {
          break;
        }
        long next = fatEntry(cluster);
        if (next >= 0x0FFFFFF8L) {
          throw new IOException("damaged FAT32 image: " + display(path) + " has " + size
              + " bytes but its cluster chain ends after " + (i + 1) + " clusters");
        }
        next = next(cluster, next, path);
        if (next != cluster + 1) {
          long length = (i + 1) * clusterSize - runFileOffset;
          extents.add(new Extent(runFileOffset, boot.clusterOffset(runStart), length));
          runFileOffset += length;
          runStart = next;
        }
        cluster = next;
      }
      extents.add(new Extent(runFileOffset, boot.clusterOffset(runStart), size - runFileOffset));
      return extents;
    }

    /** Checks the FAT's value next after cluster: a cluster of the volume, not free or bad. */
    private long next(long cluster, long next, List<String> path) throws IOException {
      if (next == 0) {
        throw new IOException("damaged FAT32 image: the cluster chain of " + display(path)
            + " runs into a free cluster after cluster " + cluster);
      }
      if (next == 0x0FFFFFF7L) {
        throw new IOException("damaged FAT32 image: the cluster chain of " + display(path)
            + " runs into a bad cluster after cluster " + cluster);
      }
      return next;
    }

    /** Marks cluster as used by path; fails when it is outside the volume or used already. */
    private void claim(long cluster, List<String> path) throws IOException {
      if (cluster < 2 || cluster > maxCluster) {
        throw new IOException("damaged FAT32 image: the cluster chain of " + display(path) + " reaches cluster "
            + cluster + ", outside the volume's 2.." + maxCluster);
      }
      if (seen.get((int) cluster)) {
        throw new IOException("damaged FAT32 image: cluster " + cluster + " of " + display(path)
            + " is used twice (a loop in its chain, or two chains sharing it)");
      }
      seen.set((int) cluster);
    }

    private long fatEntry(long cluster) throws IOException {
      long offset = cluster * 4;
      long chunk = offset / FAT_CHUNK;
      ByteBuffer bytes = fatChunks.get(chunk);
      if (bytes == null) {
        int length = (int) Math.min(FAT_CHUNK, fatBytes - chunk * FAT_CHUNK);
        bytes = ByteBuffer.wrap(read(image, boot.fatOffset(boot.activeFat()) + chunk * FAT_CHUNK, length))
            .order(ByteOrder.LITTLE_ENDIAN);
        fatChunks.put(chunk, bytes);
      }
      return bytes.getInt((int) (offset % FAT_CHUNK)) & 0x0FFFFFFFL;
    }

    private static String join(char[][] parts) {
      StringBuilder name = new StringBuilder();
      for (char[] part : parts) {
        for (char unit : part) {
          if (unit == 0) {
            return name.toString();
          }
          name.append(unit);
        }
      }
      return name.toString();
    }

    private static String display(List<String> path) {
      return path.isEmpty() ? "the root folder" : String.join("/", path);
    }
  }
}
